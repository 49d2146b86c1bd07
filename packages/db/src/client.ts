import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from './generated/prisma/client.js';
import { setPreparedStatements } from './statements.js';

export { isDatabaseUnavailable, isDataError } from './errors.js';

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
  /**
   * Hot-path `Statement`s as server-side prepared statements (default), or
   * inline (behind PgBouncer in transaction mode, which cannot keep them).
   */
  preparedStatements?: boolean;
  /**
   * Called when a connection that is not in use fails (PostgreSQL restarted,
   * the connection was terminated): the pool drops it and the next query
   * opens a new one. Without a listener such an error would end the process.
   */
  onIdleError?: (err: Error) => void;
}

/** node-postgres' pool, for the SQL written by hand (see `sqlPool`). */
export type SqlPool = pg.Pool;
export type SqlResult = pg.QueryResult;
/** One connection of the pool, for a transaction made of several messages. */
export type SqlClient = pg.PoolClient;

const pools = new WeakMap<Db, SqlPool>();

/**
 * One PrismaClient per process, over node-postgres. Connecting fails fast
 * (the ingest answers 503 rather than hang when PostgreSQL is away).
 */
export function createDb(opts: DbOptions): Db {
  const pool = new pg.Pool({
    connectionString: opts.databaseUrl,
    max: opts.poolMax ?? 10,
    connectionTimeoutMillis: opts.connectionTimeoutMs ?? 5000,
    idleTimeoutMillis: 30000,
    ...(opts.queryTimeoutMs ? { query_timeout: opts.queryTimeoutMs } : {}),
  });
  // Prisma's adapter listens only once Prisma has connected, and the hot paths never make it (ADR 0010).
  pool.on('error', opts.onIdleError ?? (() => undefined));
  setPreparedStatements(pool, opts.preparedStatements ?? true);
  const db = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  pools.set(db, pool);
  return db;
}

/**
 * The connection pool under a client made by `createDb`: the same connections
 * and limits, for the SQL written by hand — the worker's, the ingest's lead
 * API (ADRs 0009, 0010), with `statement()` / `inTransaction()` for the hot
 * paths. The admin API, the CLI and the operations go through Prisma.
 */
export function sqlPool(db: Db): SqlPool {
  const pool = pools.get(db);
  if (!pool) throw new Error('sqlPool: this client was not made by createDb');
  return pool;
}

/**
 * Closes a client made by `createDb`: Prisma, and the pool under it, which
 * `$disconnect` alone leaves open when Prisma never ran a query (the hot
 * paths use the pool directly; ADR 0010).
 */
export async function closeDb(db: Db): Promise<void> {
  await db.$disconnect();
  const pool = pools.get(db);
  if (pool && !(pool as { ended?: boolean }).ended) await pool.end();
}
