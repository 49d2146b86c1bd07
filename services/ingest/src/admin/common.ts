import { pageOf as pageOfRows, pageParameters, type Cursor } from '@leadrouter/api';
import { AppError, conflict, notFound } from '@leadrouter/core';
import { ParamReader } from '@leadrouter/lifecycle';
import { Prisma } from '@leadrouter/db';
import type { Request } from 'express';

/** A page of a list ordered by creation (sources, partners, routes): `limit` and the cursor after the last row. */
export interface PageRequest {
  limit: number;
  cursor?: Cursor;
}

/**
 * `limit` and `cursor` of the query (the one pagination scheme, ADR 0019). Any other parameter is a problem too,
 * as in every list: one 422 lists them all.
 */
export function pageParams(req: Request): PageRequest {
  const r = new ParamReader(req.query, Object.keys(pageParameters));
  const limit = r.limit();
  const cursor = r.cursor();
  r.check();
  return { limit, ...(cursor ? { cursor } : {}) };
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
