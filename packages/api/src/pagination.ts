/**
 * The one pagination scheme of every list the API answers (ADR 0019): `?limit=&cursor=` in, `{items,
 * nextCursor}` out (ADR 0019), `nextCursor` null on the last page.
 *
 * Cursors are keyset positions: the `(time, id)` of the last row of a page, in the list's own order (creation
 * for sources, partners and routes; dead-lettering for dead letters; newest first for the lead search).
 * Opaque to clients (base64url), so the ordering can change without breaking their code; a cursor stays valid
 * however many rows are added meanwhile.
 */
import { Type, UUID_RE } from '@leadrouter/core';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;
/** The longest cursor the API writes (with room to spare). */
export const MAX_CURSOR = 100;

export interface Cursor {
  at: Date;
  id: string;
}

/** A list answer: `{items, nextCursor}`. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** The query parameters of a page, as every list takes them. */
export const pageParameters = {
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT, description: 'items per page' }),
  ),
  cursor: Type.Optional(
    Type.String({ minLength: 1, maxLength: MAX_CURSOR, description: 'the `nextCursor` of the previous page (opaque)' }),
  ),
};
export const PageQuery = Type.Object(pageParameters);

export function encodeCursor(c: Cursor): string {
  return Buffer.from(`${c.at.getTime()}.${c.id}`, 'utf8').toString('base64url');
}

/** The cursor, or null when `raw` is not one this module wrote. */
export function decodeCursor(raw: string): Cursor | null {
  if (raw.length > MAX_CURSOR || !/^[\w-]+$/.test(raw)) return null;
  const m = /^(\d{1,15})\.([0-9a-f-]{36})$/i.exec(Buffer.from(raw, 'base64url').toString('utf8'));
  if (!m || !UUID_RE.test(m[2]!)) return null;
  const at = new Date(Number(m[1]));
  return Number.isNaN(at.getTime()) ? null : { at, id: m[2]!.toLowerCase() };
}

/**
 * A page from the rows of a query that asked for `limit + 1` (the extra row says whether there is more):
 * the first `limit`, shown by `view`, and the cursor after the last of them (`position`).
 */
export function pageOf<R, V>(rows: R[], limit: number, position: (row: R) => Cursor, view: (row: R) => V): Page<V> {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  const last = items[items.length - 1];
  return { items: items.map(view), nextCursor: more && last !== undefined ? encodeCursor(position(last)) : null };
}
