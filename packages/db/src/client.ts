import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from './generated/prisma/client.js';
import { setPreparedStatements } from './statements.js';

export { isDatabaseUnavailable, isDataError, isTransactionConflict } from './errors.js';

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
   * Called once for each connection that fails (PostgreSQL restarted, failed
   * over, `pg_terminate_backend`), whether it was idle in the pool or checked
   * out by a statement or a transaction: the statement in flight on it fails
   * (and is retried by its caller), the pool drops it, and the next query
   * opens a new one. Without a listener such an error would end the process.
   */
  onConnectionError?: (err: Error) => void;
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
    // No JIT compilation (ADR 0041): these are short statements, and PostgreSQL compiles a statement whenever its
    // plan's estimated cost passes jit_above_cost, which a generic plan touching a big table can do on every call
    // (the cap check cost 16 ms of compilation a lead on the bench's 10 M-lead database). The pool awaits this
    // before it hands the new connection out; if it fails, the connection is closed and its caller gets the error.
    // pg-pool (3.14) awaits the hook's promise; @types/pg declares it as returning void.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    onConnect: async (client: pg.ClientBase) => {
      await client.query('SET jit = off');
    },
  });
  // node-postgres emits a connection's failure as an 'error' event, which ends the process if no one listens.
  // The pool listens on its idle connections only (and Prisma's adapter only once Prisma has connected, which
  // the hot paths never make it do; ADR 0010): a connection checked out by `sqlTransaction` or `runStatement`
  // between two messages, or waiting for one, had no listener. So every connection gets one of its own, from
  // its first moment in the pool to its end; the pool's listener is there for its idle connections' errors,
  // which also reach it, and only the first error of a connection is reported.
  const reported = new WeakSet<pg.PoolClient>();
  pool.on('connect', (client) => {
    client.on('error', (err) => {
      if (reported.has(client)) return;
      reported.add(client);
      opts.onConnectionError?.(err);
    });
  });
  pool.on('error', () => undefined);
  setPreparedStatements(pool, opts.preparedStatements ?? true);
  const { db, made } = lazyPrisma(
    () => new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) }),
  );
  pools.set(db, pool);
  prismas.set(db, made);
  return db;
}

const prismas = new WeakMap<Db, () => PrismaClient | undefined>();

/**
 * Whether the PrismaClient of a client made by `createDb` has been made: it is made on the client's first use
 * (a model, `$transaction`, `$queryRaw`…), not by `createDb`. Tests look at it; `closeDb` disconnects only a
 * client that was made.
 */
export function prismaMade(db: Db): boolean {
  return prismas.get(db)?.() !== undefined;
}

/**
 * A stand-in for a PrismaClient that makes the client on first use. Making one deserializes Prisma's
 * parameterization graph of the whole schema: about 5 MB of heap that stays for the process' life, which the
 * worker's hot paths and an ingest serving sources never use (they run their SQL on the pool; ADRs 0009, 0010).
 * V8 lets a process' heap grow to about four times what it keeps alive before a full collection: 10–17 MB of the
 * worker's peak RSS, 12–19 MB of an ingest's (docs/performance.md, "The worker's peak RSS").
 *
 * Everything is forwarded to the client (made at that moment): properties, `in`, assignments, and its methods
 * bound to it, each bound once so `db.$transaction === db.$transaction`. Its prototype is PrismaClient's without
 * making it, so `instanceof PrismaClient` holds either way.
 */
function lazyPrisma(make: () => PrismaClient): { db: Db; made: () => PrismaClient | undefined } {
  let client: PrismaClient | undefined;
  const real = () => (client ??= make());
  const bound = new Map<PropertyKey, { method: (...args: unknown[]) => unknown; bound: unknown }>();
  const target = Object.create(PrismaClient.prototype as object) as Db;
  const db = new Proxy(target, {
    get(_target, key) {
      const c = real();
      const value: unknown = Reflect.get(c, key, c);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      let entry = bound.get(key);
      if (entry?.method !== method) bound.set(key, (entry = { method, bound: method.bind(c) }));
      return entry.bound;
    },
    set: (_target, key, value) => Reflect.set(real(), key, value),
    has: (_target, key) => Reflect.has(real(), key),
    deleteProperty: (_target, key) => Reflect.deleteProperty(real(), key),
    ownKeys: () => Reflect.ownKeys(real()),
    getOwnPropertyDescriptor(_target, key) {
      const descriptor = Reflect.getOwnPropertyDescriptor(real(), key);
      // The stand-in's own target has none of these properties: a proxy may report them only as configurable.
      return descriptor === undefined ? undefined : { ...descriptor, configurable: true };
    },
  });
  return { db, made: () => client };
}

/**
 * The connection pool under a client made by `createDb`: the same connections
 * and limits, for the SQL written by hand — the worker's, the ingest's lead
 * API (ADRs 0009, 0010), the operations' transactions, with typed statements
 * and `sqlTransaction()` (ADR 0020). The admin API and the CLI's reads go
 * through Prisma.
 */
export function sqlPool(db: Db): SqlPool {
  const pool = pools.get(db);
  if (!pool) throw new Error('sqlPool: this client was not made by createDb');
  return pool;
}

/**
 * Closes a client made by `createDb`: Prisma if it was made, and the pool
 * under it, which `$disconnect` alone leaves open when Prisma never ran a
 * query (the hot paths use the pool directly; ADR 0010).
 */
export async function closeDb(db: Db): Promise<void> {
  if (prismaMade(db)) await db.$disconnect();
  const pool = pools.get(db);
  if (pool && !(pool as { ended?: boolean }).ended) await pool.end();
}
