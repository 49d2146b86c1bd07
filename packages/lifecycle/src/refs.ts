import { UUID_RE } from '@leadrouter/core';
import type { Db } from '@leadrouter/db';

export interface Named {
  id: string;
  name: string;
}

/**
 * A partner or source named by an operator: by id, or by its (unique) name,
 * whichever matches — ids are what the API returns, names are what people
 * remember. An id wins over a name that happens to look like an id.
 */
export async function findPartner(db: Db, ref: string): Promise<Named | null> {
  const select = { id: true, name: true } as const;
  const byId = UUID_RE.test(ref) ? await db.partner.findUnique({ where: { id: ref.toLowerCase() }, select }) : null;
  return byId ?? (await db.partner.findUnique({ where: { name: ref }, select }));
}

export async function findSource(db: Db, ref: string): Promise<Named | null> {
  const select = { id: true, name: true } as const;
  const byId = UUID_RE.test(ref) ? await db.source.findUnique({ where: { id: ref.toLowerCase() }, select }) : null;
  return byId ?? (await db.source.findUnique({ where: { name: ref }, select }));
}
