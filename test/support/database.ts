// A PostgreSQL database per test file, copied from the template that
// test/global-setup.ts builds from prisma/migrations once per run: a copy takes
// tens of milliseconds, replaying the migrations several hundred.
//
//   const db = await createTestDatabase();   // { name, url, drop }
//   afterAll(() => db.drop());
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/leadrouter';
/**
 * The migrated template, named after the migrations it holds: checkouts with
 * different migrations (branches, worktrees) running their tests on one
 * server at once never copy each other's schema.
 */
export const TEMPLATE_DATABASE = `leadrouter_test_template_${migrationsDigest()}`;

function migrationsDigest(): string {
  const root = path.join(__dirname, '..', '..', 'prisma', 'migrations');
  const hash = createHash('sha256');
  for (const name of readdirSync(root).sort()) {
    if (!/^\d+_/.test(name)) continue;
    hash.update(name);
    hash.update(readFileSync(path.join(root, name, 'migration.sql')));
  }
  return hash.digest('hex').slice(0, 12);
}
/** Every test database is named `${TEST_DATABASE_PREFIX}<run>_<random>`. */
export const TEST_DATABASE_PREFIX = 'leadrouter_test_';
/** Set by global-setup for the workers: this run's part of the database names. */
export const RUN_ID_ENV = 'LEADROUTER_TEST_RUN_ID';

export interface TestDatabase {
  name: string;
  url: string;
  /** Drops the database, ending any connections still open to it. */
  drop(): Promise<void>;
}

/** The server the tests use: DATABASE_URL's, or the default local one. */
export function serverUrl(database: string): string {
  const url = new URL(process.env.DATABASE_URL || DEFAULT_DATABASE_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Runs `fn` with a client on the server's `postgres` maintenance database. */
export async function withAdminClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl('postgres'), connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export function runDatabasePrefix(): string {
  return `${TEST_DATABASE_PREFIX}${process.env[RUN_ID_ENV] ?? 'norun'}_`;
}

/**
 * A new database with the migrated schema (a copy of the template), or an
 * empty one with `{ empty: true }` (for tests of the migrations themselves).
 */
export async function createTestDatabase(opts: { empty?: boolean } = {}): Promise<TestDatabase> {
  const name = `${runDatabasePrefix()}${randomBytes(6).toString('hex')}`;
  const template = opts.empty ? 'template0' : TEMPLATE_DATABASE;
  await withAdminClient(async (client) => {
    const sql = `CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE ${pg.escapeIdentifier(template)}`;
    // 55006: another session is connected to the template (another worker
    // copying it at the same instant, or a run rebuilding it); 3D000: it is
    // being swapped in by a concurrent run's global-setup. Both pass quickly.
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query(sql);
        return;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if ((code !== '55006' && code !== '3D000') || attempt >= 50) {
          if (code === '3D000') {
            throw new Error(
              `test database template ${template} is missing: is jest's globalSetup (test/global-setup.ts) configured?`,
              { cause: error },
            );
          }
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
      }
    }
  });
  return { name, url: serverUrl(name), drop: () => dropDatabase(name) };
}

/** How long a drop waits for the database's connections to end by themselves before it ends them. */
const CONNECTIONS_GRACE_MS = 2_000;

/**
 * Drops a test database. Its connections get a moment to end by themselves first: a pool's `end()` resolves once
 * it has asked its idle clients to close, not once they have, and a connection the drop's FORCE ends meanwhile
 * reaches that client as an error (57P01) its pool then throws, with no listener left — an unhandled error in
 * whichever test runs then. Those still there after CONNECTIONS_GRACE_MS (a test that forgot one) are ended.
 */
export async function dropDatabase(name: string): Promise<void> {
  await withAdminClient(async (client) => {
    const deadline = Date.now() + CONNECTIONS_GRACE_MS;
    for (;;) {
      const { rows } = await client.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
        [name],
      );
      if (rows[0]!.n === 0 || Date.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  });
}

/** A migrated test database of its own and one client on it, for the tests of the `describe` block that calls it. */
export function useDatabaseClient(): () => pg.Client {
  let database: TestDatabase | undefined;
  let client: pg.Client | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await database?.drop();
  });
  return () => {
    if (!client) throw new Error('useDatabaseClient: the database is made in beforeAll');
    return client;
  };
}
