import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { applyMigrations } from '@leadrouter/db';
import { createTestDatabase, type TestDatabase } from './database';

const MIGRATIONS = path.resolve(__dirname, '../../prisma/migrations');

/**
 * A copy of prisma/migrations holding only the migrations before `name` (in a new temporary directory the caller
 * removes): a database migrated with it is the schema a migration's test converts.
 */
export function migrationsBefore(name: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
  for (const entry of readdirSync(MIGRATIONS))
    if (entry.localeCompare(name) < 0 || entry === 'migration_lock.toml')
      cpSync(path.join(MIGRATIONS, entry), path.join(dir, entry), { recursive: true });
  return dir;
}

/** A database migrated up to just before one migration, with one pool on it: what a migration's test converts. */
export interface MigratedBefore {
  database: TestDatabase;
  /** One connection, named by `applicationName` when given (a test that waits for other connections to end). */
  pool: pg.Pool;
  /** The first row of a query on `pool`. */
  one<R extends pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<R>;
  /** `migrationsBefore(name)`, removed with the database after the tests. */
  migrationsBefore(name: string): string;
}

/**
 * For the tests of the `describe` block that calls it: a new database migrated up to just before `first` (set in
 * its `beforeAll`), dropped after them with its pool and every migrations directory it made.
 */
export function useDatabaseMigratedBefore(first: string, opts: { applicationName?: string } = {}): MigratedBefore {
  const dirs: string[] = [];
  const made = (name: string) => {
    const dir = migrationsBefore(name);
    dirs.push(dir);
    return dir;
  };
  const m = {
    migrationsBefore: made,
    one: async <R extends pg.QueryResultRow>(sql: string, values: unknown[] = []) =>
      (await m.pool.query<R>(sql, values)).rows[0]!,
  } as MigratedBefore;
  beforeAll(async () => {
    m.database = await createTestDatabase({ empty: true });
    await applyMigrations({ databaseUrl: m.database.url, migrationsDir: made(first), log: () => undefined });
    m.pool = new pg.Pool({
      connectionString: m.database.url,
      max: 1,
      ...(opts.applicationName ? { application_name: opts.applicationName } : {}),
    });
  }, 60_000);
  afterAll(async () => {
    await m.pool?.end();
    await m.database?.drop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  return m;
}

/**
 * A source and a partner ("acme") written in SQL, as a migration's test seeds the schema of before: columns every
 * version of the schema has. Their ids.
 */
export async function insertSourceAndPartner(pool: pg.Pool): Promise<{ source: string; partner: string }> {
  const source = randomUUID();
  const partner = randomUUID();
  await pool.query(
    `INSERT INTO sources (id, name, api_key_hash, api_key_prefix, updated_at) VALUES ($1, $2, $3, 'lr_test', now())`,
    [source, `source-${source}`, randomUUID().replaceAll('-', '').padEnd(64, '0')],
  );
  await pool.query(
    `INSERT INTO partners (id, name, url, updated_at) VALUES ($1, 'acme', 'http://127.0.0.1:9/leads', now())`,
    [partner],
  );
  return { source, partner };
}
