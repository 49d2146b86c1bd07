import type { Db, Prisma } from '@leadrouter/db';

export type Tx = Prisma.TransactionClient;

/**
 * Runs `fn` in one transaction, again (up to three times) when PostgreSQL
 * aborted it to break a deadlock or a write conflict: operations lock many
 * leads at once, the worker one at a time, so a deadlock is unlikely but not
 * impossible (foreign-key share locks from other writers).
 */
export async function inTransaction<T>(db: Db, fn: (tx: Tx) => Promise<T>, timeoutMs = 30_000): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.$transaction(fn, { timeout: timeoutMs, maxWait: 5_000 });
    } catch (err) {
      if (attempt >= 3 || !isLockConflict(err)) throw err;
    }
  }
}

function isLockConflict(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown };
  if (e.code === 'P2034' || e.code === '40P01' || e.code === '40001') return true;
  if (typeof e.message === 'string' && /deadlock detected|could not serialize access/i.test(e.message)) return true;
  return e.cause !== undefined && e.cause !== err && isLockConflict(e.cause);
}
