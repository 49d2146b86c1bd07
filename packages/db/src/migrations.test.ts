import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import {
  createTestDatabase,
  runDatabasePrefix,
  serverUrl,
  dropDatabase,
  type TestDatabase,
} from '../../../test/support/database.js';
import { MigrationError, applyMigrations, ensureDatabase } from './migrate.js';

const run = promisify(execFile);
const REPO = path.resolve(__dirname, '../../..');
const SCHEMA = path.join(REPO, 'prisma/schema.prisma');
const SCHEMA_DIFF = path.join(REPO, 'tools/prisma-dev/schema-diff.js');
/** What schema.prisma cannot describe (functions, triggers), applied after its SQL (ADR 0023). */
const HAND_WRITTEN = path.join(REPO, 'prisma/hand-written');

const databases: TestDatabase[] = [];
const tempDirs: string[] = [];

async function emptyDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase({ empty: true });
  databases.push(db);
  return db;
}

afterAll(async () => {
  await Promise.all(databases.map((db) => db.drop()));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

async function query<R extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

describe('the migrations in prisma/migrations', () => {
  test('build the schema that prisma/schema.prisma describes (drift check)', async () => {
    const [fromMigrations, fromSchema] = await Promise.all([emptyDatabase(), emptyDatabase()]);
    const [, diff] = await Promise.all([
      applyMigrations({ databaseUrl: fromMigrations.url }),
      // Prisma 6.19's offline engine, as `npm run db:new-migration` uses it.
      run(process.execPath, [SCHEMA_DIFF, '--from-empty', '--to', SCHEMA], {
        env: { ...process.env, DATABASE_URL: serverUrl('postgres') },
      }),
    ]);
    await query(fromSchema.url, diff.stdout);
    for (const file of readdirSync(HAND_WRITTEN)
      .filter((f) => f.endsWith('.sql'))
      .sort())
      await query(fromSchema.url, readFileSync(path.join(HAND_WRITTEN, file), 'utf8'));

    const [migrated, expected] = await Promise.all([dumpSchema(fromMigrations.url), dumpSchema(fromSchema.url)]);
    const drift = lineDiff(migrated, expected);
    if (drift) {
      throw new Error(
        'prisma/migrations does not produce the schema in prisma/schema.prisma ' +
          '(- from the migrations, + from schema.prisma):\n' +
          `${drift}\n\n` +
          'If you changed schema.prisma, write the migration: run npm run db:new-migration -- <name>; ' +
          'if you changed prisma/hand-written, add the same change to a new migration',
      );
    }
  });

  test('the drift check sees a difference', async () => {
    const db = await createTestDatabase();
    databases.push(db);
    const before = await dumpSchema(db.url);
    await query(db.url, 'ALTER TABLE partners ADD COLUMN timezone text');
    expect(lineDiff(before, await dumpSchema(db.url))).toContain('+     timezone text');
  });
});

describe('applyMigrations', () => {
  test('applies each migration once and records it as Prisma does', async () => {
    const db = await emptyDatabase();
    const dir = migrationsDir({
      '20240101000000_accounts': 'CREATE TABLE accounts (id int PRIMARY KEY);\n',
      '20240102000000_users': 'CREATE TABLE users (id int PRIMARY KEY, account_id int REFERENCES accounts);\n',
    });
    const lines: string[] = [];

    const first = await applyMigrations({ databaseUrl: db.url, migrationsDir: dir, log: (line) => lines.push(line) });
    expect(first).toEqual({ applied: ['20240101000000_accounts', '20240102000000_users'], warnings: [] });
    expect(lines).toEqual([
      expect.stringMatching(/^applied 20240101000000_accounts \(\d+ ms\)$/),
      expect.stringMatching(/^applied 20240102000000_users \(\d+ ms\)$/),
    ]);

    const rows = await query<Record<string, unknown>>(
      db.url,
      'SELECT * FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(rows).toEqual([
      prismaRow('20240101000000_accounts', 'CREATE TABLE accounts (id int PRIMARY KEY);\n'),
      prismaRow(
        '20240102000000_users',
        'CREATE TABLE users (id int PRIMARY KEY, account_id int REFERENCES accounts);\n',
      ),
    ]);
    for (const row of rows) expect((row.finished_at as Date) >= (row.started_at as Date)).toBe(true);

    expect(await applyMigrations({ databaseUrl: db.url, migrationsDir: dir })).toEqual({ applied: [], warnings: [] });

    addMigration(dir, '20240103000000_orders', 'CREATE TABLE orders (id int);');
    expect((await applyMigrations({ databaseUrl: db.url, migrationsDir: dir })).applied).toEqual([
      '20240103000000_orders',
    ]);
  });

  test('records a failed migration and refuses to go on until it is resolved (P3018, then P3009)', async () => {
    const db = await emptyDatabase();
    const dir = migrationsDir({
      '20240101000000_ok': 'CREATE TABLE ok (id int);',
      '20240102000000_broken': 'CREATE TABLE half (id int);\nSELECT no_such_function();',
      '20240103000000_later': 'CREATE TABLE later (id int);',
    });

    const failure = await applyMigrations({ databaseUrl: db.url, migrationsDir: dir }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(MigrationError);
    expect(failure).toMatchObject({ code: 'P3018', message: expect.stringContaining('20240102000000_broken') });

    const rows = await query<{ migration_name: string; finished_at: Date | null; logs: string | null }>(
      db.url,
      'SELECT migration_name, finished_at, logs, applied_steps_count FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(rows).toEqual([
      expect.objectContaining({ migration_name: '20240101000000_ok', logs: null, applied_steps_count: 1 }),
      expect.objectContaining({ migration_name: '20240102000000_broken', finished_at: null, applied_steps_count: 0 }),
    ]);
    expect(rows[1]?.logs).toContain('Database error code: 42883');
    expect(rows[1]?.logs).toContain('no_such_function');
    // The file ran as one implicit transaction: nothing of it remains.
    expect(await query(db.url, "SELECT to_regclass('half') AS t")).toEqual([{ t: null }]);

    const blocked = await applyMigrations({ databaseUrl: db.url, migrationsDir: dir }).catch((e: unknown) => e);
    expect(blocked).toMatchObject({ name: 'MigrationError', code: 'P3009' });
    expect((blocked as Error).message).toMatch(/20240102000000_broken started at .* failed/);
    expect((blocked as Error).message).toContain('rolled_back_at = now()');

    // Resolve as `prisma migrate resolve --rolled-back` does, after fixing the file.
    addMigration(dir, '20240102000000_broken', 'CREATE TABLE half (id int);');
    await query(
      db.url,
      "UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = '20240102000000_broken'",
    );
    expect((await applyMigrations({ databaseUrl: db.url, migrationsDir: dir })).applied).toEqual([
      '20240102000000_broken',
      '20240103000000_later',
    ]);
  });

  test('refuses a non-empty database without _prisma_migrations (P3005)', async () => {
    const db = await emptyDatabase();
    await query(db.url, 'CREATE TABLE legacy (id int)');
    const dir = migrationsDir({ '20240101000000_init': 'CREATE TABLE t (id int);' });

    const refusal = await applyMigrations({ databaseUrl: db.url, migrationsDir: dir }).catch((e: unknown) => e);
    expect(refusal).toMatchObject({ name: 'MigrationError', code: 'P3005' });
    expect((refusal as Error).message).toContain('table legacy');
    expect(await query(db.url, "SELECT to_regclass('_prisma_migrations') AS t")).toEqual([{ t: null }]);
  });

  test('concurrent runs apply each migration once', async () => {
    const db = await emptyDatabase();
    const dir = migrationsDir({
      '20240101000000_slow': 'SELECT pg_sleep(0.3); CREATE TABLE slow (id int);',
      '20240102000000_next': 'CREATE TABLE next (id int);',
    });
    const lines: string[] = [];

    const results = await Promise.all([
      applyMigrations({ databaseUrl: db.url, migrationsDir: dir, log: (line) => lines.push(line) }),
      applyMigrations({ databaseUrl: db.url, migrationsDir: dir, log: (line) => lines.push(line) }),
    ]);

    expect(results.flatMap((r) => r.applied).sort()).toEqual(['20240101000000_slow', '20240102000000_next']);
    expect(lines).toContain('waiting for another migration run to finish (advisory lock 72707369)');
    expect(
      await query(db.url, 'SELECT migration_name, count(*)::int AS n FROM _prisma_migrations GROUP BY 1 ORDER BY 1'),
    ).toEqual([
      { migration_name: '20240101000000_slow', n: 1 },
      { migration_name: '20240102000000_next', n: 1 },
    ]);
  });

  test('warns, and applies nothing, when an applied migration was edited', async () => {
    const db = await emptyDatabase();
    const dir = migrationsDir({ '20240101000000_init': 'CREATE TABLE t (id int);' });
    await applyMigrations({ databaseUrl: db.url, migrationsDir: dir });

    addMigration(dir, '20240101000000_init', 'CREATE TABLE t (id bigint);');
    const lines: string[] = [];
    const second = await applyMigrations({ databaseUrl: db.url, migrationsDir: dir, log: (l) => lines.push(l) });
    expect(second.applied).toEqual([]);
    expect(second.warnings).toEqual([expect.stringContaining('20240101000000_init was modified after it was applied')]);
    expect(lines).toEqual([`warning: ${second.warnings[0]}`]);
  });

  test('accepts a checksum of the file with LF line ends, as Prisma does', async () => {
    const db = await emptyDatabase();
    const dir = migrationsDir({ '20240101000000_init': 'CREATE TABLE t (id int);\nCREATE TABLE u (id int);\n' });
    await applyMigrations({ databaseUrl: db.url, migrationsDir: dir });
    addMigration(dir, '20240101000000_init', 'CREATE TABLE t (id int);\r\nCREATE TABLE u (id int);\r\n');
    expect(await applyMigrations({ databaseUrl: db.url, migrationsDir: dir })).toEqual({ applied: [], warnings: [] });
  });

  test('names a migration folder without migration.sql (P3015)', async () => {
    const db = await emptyDatabase();
    const dir = migrationsDir({});
    mkdirSync(path.join(dir, '20240101000000_empty'));
    await expect(applyMigrations({ databaseUrl: db.url, migrationsDir: dir })).rejects.toMatchObject({
      code: 'P3015',
      message: expect.stringContaining('20240101000000_empty'),
    });
  });
});

describe('ensureDatabase', () => {
  test('creates a missing database once, even when asked twice at the same time', async () => {
    const name = `${runDatabasePrefix()}ensure "quoted" db`;
    const url = serverUrl(encodeURIComponent(name));
    try {
      const created = await Promise.all([ensureDatabase(url), ensureDatabase(url)]);
      expect(created.sort()).toEqual([false, true]);
      expect(await ensureDatabase(url)).toBe(false);
      expect(await query(url, 'SELECT current_database() AS name')).toEqual([{ name }]);
    } finally {
      await dropDatabase(name);
    }
  });

  test('says where it looked when PostgreSQL is not there', async () => {
    await expect(ensureDatabase('postgresql://postgres@127.0.0.1:1/leadrouter')).rejects.toMatchObject({
      name: 'MigrationError',
      code: 'P1001',
      message: expect.stringContaining('127.0.0.1:1'),
    });
  });
});

/** A temporary migrations directory, with the files that sit beside the folders in prisma/migrations. */
function migrationsDir(migrations: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leadrouter-migrations-'));
  tempDirs.push(dir);
  writeFileSync(path.join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n');
  writeFileSync(path.join(dir, 'schema.snapshot.prisma'), '// not a migration\n');
  for (const [name, sql] of Object.entries(migrations)) addMigration(dir, name, sql);
  return dir;
}

function addMigration(dir: string, name: string, sql: string): void {
  mkdirSync(path.join(dir, name), { recursive: true });
  writeFileSync(path.join(dir, name, 'migration.sql'), sql);
}

function prismaRow(name: string, sql: string): Record<string, unknown> {
  return {
    id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
    checksum: createHash('sha256').update(sql).digest('hex'),
    migration_name: name,
    logs: null,
    rolled_back_at: null,
    started_at: expect.any(Date),
    finished_at: expect.any(Date),
    applied_steps_count: 1,
  };
}

/** The schema as pg_dump prints it, without comments, session settings and Prisma's bookkeeping. */
async function dumpSchema(url: string): Promise<string> {
  const { stdout } = await run('pg_dump', [
    '--schema-only',
    '--no-owner',
    '--no-privileges',
    '--exclude-table=_prisma_migrations',
    `--dbname=${url}`,
  ]);
  const lines = stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .filter((line) => !/^(--|SET |SELECT pg_catalog\.set_config|\\restrict |\\unrestrict )/.test(line));
  return sortColumns(lines).join('\n');
}

/**
 * Column order is not part of the schema that matters: a migration's
 * `ADD COLUMN` appends where schema.prisma may declare it in the middle. So
 * each CREATE TABLE's column lines are compared as a sorted set.
 */
function sortColumns(lines: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    out.push(lines[i]!);
    if (!/^CREATE TABLE .*\($/.test(lines[i]!)) continue;
    const columns: string[] = [];
    // A partitioned table's column list ends with `)`, its PARTITION BY clause on the next line.
    while (i + 1 < lines.length && lines[i + 1] !== ');' && lines[i + 1] !== ')')
      columns.push(lines[++i]!.replace(/,$/, ''));
    out.push(...columns.sort());
  }
  return out;
}

/** Lines only in `a` (-) and only in `b` (+), in order; '' when equal. */
function lineDiff(a: string, b: string): string {
  if (a === b) return '';
  const x = a.split('\n');
  const y = b.split('\n');
  // Longest common subsequence, by dynamic programming: schemas are a few hundred lines.
  const lcs = Array.from({ length: x.length + 1 }, () => new Array<number>(y.length + 1).fill(0));
  for (let i = x.length - 1; i >= 0; i--) {
    for (let j = y.length - 1; j >= 0; j--) {
      lcs[i]![j] = x[i] === y[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) {
      i++;
      j++;
    } else if (j < y.length && (i === x.length || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      out.push(`+ ${y[j++]}`);
    } else {
      out.push(`- ${x[i++]}`);
    }
  }
  return out.join('\n');
}
