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
    /Connection terminated|timeout exceeded when trying to connect|Query read timeout/i.test(e.message)
  )
    return true;
  return e.cause !== undefined && e.cause !== err && isDatabaseUnavailable(e.cause);
}
