import { DEFAULT_LIMIT, pageOf as pageOfRows, type Cursor } from '@leadrouter/api';
import { AppError, conflict, notFound, type FieldError } from '@leadrouter/core';
import { cursorOf } from '@leadrouter/lifecycle';
import { Prisma } from '@leadrouter/db';

/** A page of a list ordered by creation (sources, partners, routes): `limit` and the cursor after the last row. */
export interface PageRequest {
  limit: number;
  cursor?: Cursor;
}

/**
 * A page's `limit` (default 50) and `cursor`, as the list's schema accepted them (the one pagination scheme, ADR
 * 0019): the cursor read, a problem if it is no `nextCursor` of ours (listed with the schema's problems).
 */
export function readPage(query: { limit?: number; cursor?: string }, problems: FieldError[]): PageRequest {
  const cursor = cursorOf(query.cursor, problems);
  return { limit: query.limit ?? DEFAULT_LIMIT, ...(cursor ? { cursor } : {}) };
}

/** Prisma's arguments for the page: in creation order (then id), after the cursor, one row more than the limit. */
export function pageQuery(page: PageRequest) {
  const c = page.cursor;
  return {
    take: page.limit + 1,
    orderBy: [{ createdAt: 'asc' as const }, { id: 'asc' as const }],
    ...(c ? { where: { OR: [{ createdAt: { gt: c.at } }, { createdAt: c.at, id: { gt: c.id } }] } } : {}),
  };
}

/** The answer's `{items, nextCursor}` from the rows of `pageQuery`. */
export function pageOf<T extends { id: string; createdAt: Date }, V>(
  rows: T[],
  page: PageRequest,
  view: (row: T) => V,
) {
  return pageOfRows(rows, page.limit, (row) => ({ at: row.createdAt, id: row.id }), view);
}

/** Database constraint errors as the admin API's answers. */
export function mapDbError(err: unknown, what: string): never {
  if (err instanceof Prisma.PrismaClientKnownRequestError) {
    if (err.code === 'P2002') throw conflict(`a ${what} with that name already exists; names are unique`);
    if (err.code === 'P2025') throw notFound(what);
    if (err.code === 'P2003')
      throw conflict(`the ${what} is still referenced (deliveries or routes); deactivate it instead`);
  }
  if (err instanceof AppError) throw err;
  throw err;
}
