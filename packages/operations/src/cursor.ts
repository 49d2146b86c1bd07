import { UUID_RE } from '@leadrouter/core';

/**
 * Keyset cursors: the position after the last row of a page, as `(time, id)`.
 * Opaque to clients (base64url), so the ordering can change without breaking
 * their code; a cursor stays valid however many rows are added meanwhile.
 */
export interface Cursor {
  at: Date;
  id: string;
}

/** A list answer: `{items, nextCursor}`, nextCursor null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(`${c.at.getTime()}.${c.id}`, 'utf8').toString('base64url');
}

/** The cursor, or null when `raw` is not one this module wrote. */
export function decodeCursor(raw: string): Cursor | null {
  if (raw.length > 100 || !/^[\w-]+$/.test(raw)) return null;
  const m = /^(\d{1,15})\.([0-9a-f-]{36})$/i.exec(Buffer.from(raw, 'base64url').toString('utf8'));
  if (!m || !UUID_RE.test(m[2]!)) return null;
  const at = new Date(Number(m[1]));
  return Number.isNaN(at.getTime()) ? null : { at, id: m[2]!.toLowerCase() };
}
