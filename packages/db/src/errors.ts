/**
 * True for errors that mean "PostgreSQL cannot be reached or used right now"
 * (not reachable, timed out, pool exhausted, connection dropped) as opposed to
 * a problem with the query: the ingest answers those 503 with Retry-After.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: string; code?: string; message?: string; cause?: unknown };
  if (e.name === 'PrismaClientInitializationError') return true;
  if (typeof e.code === 'string' && (/^P10\d\d$/.test(e.code) || e.code === 'P2024')) return true;
  if (
    typeof e.code === 'string' &&
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P03', '53300'].includes(e.code)
  )
    return true;
  if (
    typeof e.message === 'string' &&
    /Connection terminated|not queryable|timeout exceeded when trying to connect|Query read timeout/i.test(e.message)
  )
    return true;
  return e.cause !== undefined && e.cause !== err && isDatabaseUnavailable(e.cause);
}

/**
 * True when PostgreSQL refused a value the statement carried, not the
 * statement or the connection: SQLSTATE class 22, "data exception" (a byte
 * sequence or character it cannot store, JSON it cannot read, a number out
 * of range, a string too long), and 08P01, which is how it refuses a whole
 * message whose text holds a NUL character. Running the same statement with
 * the same values again fails the same way.
 */
export function isDataError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (/^22[0-9A-Z]{3}$/.test(code) || code === '08P01');
}

/**
 * True when PostgreSQL aborted the transaction to break a deadlock (40P01)
 * or a serialization failure (40001): running the whole transaction again
 * may well succeed (`sqlTransaction(…, { retryConflicts: true })`).
 */
export function isTransactionConflict(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown };
  if (e.code === 'P2034' || e.code === '40P01' || e.code === '40001') return true;
  if (typeof e.message === 'string' && /deadlock detected|could not serialize access/i.test(e.message)) return true;
  return e.cause !== undefined && e.cause !== err && isTransactionConflict(e.cause);
}
