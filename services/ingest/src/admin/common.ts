import { AppError, conflict, invalid, notFound, UUID_RE } from '@leadrouter/core';
import { Prisma } from '@leadrouter/db';
import type { Request } from 'express';

/** The `:id` parameter, or a 404 when it cannot be an id at all. */
export function idParam(req: Request, what: string): string {
  const id = String(req.params.id);
  if (!UUID_RE.test(id)) throw notFound(what);
  return id;
}

export interface Page {
  take: number;
  cursor?: string;
}

/** `limit` (1–500, default 50) and an opaque `cursor` (the last id of the previous page). */
export function pageParams(req: Request): Page {
  const errors = [];
  const limitRaw = req.query.limit;
  let take = 50;
  if (limitRaw !== undefined) {
    take = Number(limitRaw);
    if (!Number.isInteger(take) || take < 1 || take > 500)
      errors.push({ field: 'limit', message: 'must be an integer from 1 to 500' });
  }
  const cursor = req.query.cursor;
  if (cursor !== undefined && (typeof cursor !== 'string' || !UUID_RE.test(cursor))) {
    errors.push({ field: 'cursor', message: 'must be the nextCursor of a previous page' });
  }
  if (errors.length) throw invalid(errors);
  return { take, ...(typeof cursor === 'string' ? { cursor } : {}) };
}

/** Prisma's arguments for a page ordered by id, and the answer's `{items, nextCursor}`. */
export function pageQuery(page: Page): { take: number; orderBy: { id: 'asc' }; where?: { id: { gt: string } } } {
  return {
    take: page.take + 1,
    orderBy: { id: 'asc' },
    ...(page.cursor ? { where: { id: { gt: page.cursor } } } : {}),
  };
}

export function pageOf<T extends { id: string }, V>(
  rows: T[],
  page: Page,
  view: (row: T) => V,
): { items: V[]; nextCursor: string | null } {
  const more = rows.length > page.take;
  const items = more ? rows.slice(0, page.take) : rows;
  return { items: items.map(view), nextCursor: more ? (items[items.length - 1]?.id ?? null) : null };
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
