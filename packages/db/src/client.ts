import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.js';

export { Prisma } from './generated/prisma/client.js';
export type {
  Source,
  Partner,
  Route,
  RoutePartner,
  Lead,
  LeadEvent,
  Delivery,
  DeliveryAttempt,
} from './generated/prisma/client.js';
export { PrismaClient };

export type Db = PrismaClient;

export interface DbOptions {
  databaseUrl: string;
  /** Pool size per process; see docs/scaling.md. */
  poolMax?: number;
  /** How long a request waits for a connection before failing (ms). */
  connectionTimeoutMs?: number;
  /** Client-side limit on one query (ms), so a stuck server cannot hang a request. */
  queryTimeoutMs?: number;
}

/**
 * One PrismaClient per process, over node-postgres. Connecting fails fast
 * (the ingest answers 503 rather than hang when PostgreSQL is away).
 */
export function createDb(opts: DbOptions): Db {
  const adapter = new PrismaPg({
    connectionString: opts.databaseUrl,
    max: opts.poolMax ?? 10,
    connectionTimeoutMillis: opts.connectionTimeoutMs ?? 5000,
    idleTimeoutMillis: 30000,
    ...(opts.queryTimeoutMs ? { query_timeout: opts.queryTimeoutMs } : {}),
  });
  return new PrismaClient({ adapter });
}

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
