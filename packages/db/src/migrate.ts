// Applies prisma/migrations without Prisma's schema engine, which the build
// machines cannot download. It keeps Prisma's own bookkeeping: the
// `_prisma_migrations` table, its checksums and its advisory lock, so
// `prisma migrate deploy` / `migrate status` keep working wherever the engine
// is available (docs/decisions/0002-migrations.md).
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';

/** The key Prisma's schema engine locks while it migrates PostgreSQL. */
const PRISMA_ADVISORY_LOCK = 72707369;
const MIGRATIONS_TABLE = '_prisma_migrations';
const CONNECT_TIMEOUT_MS = 10_000;

export type MigrationErrorCode =
  /** PostgreSQL cannot be reached (Prisma's P1001). */
  | 'P1001'
  /** Non-empty database without `_prisma_migrations` (Prisma's P3005). */
  | 'P3005'
  /** A migration is recorded as failed (Prisma's P3009). */
  | 'P3009'
  /** A migration folder without migration.sql (Prisma's P3015). */
  | 'P3015'
  /** A migration failed while being applied now (Prisma's P3018). */
  | 'P3018'
  /** migration_lock.toml names another provider (Prisma's P3019). */
  | 'P3019'
  /** Bad input: URL, migrations directory. */
  | 'CONFIG';

/** A migration problem someone has to act on; the message says what to do. */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';

  constructor(
    readonly code: MigrationErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface ApplyMigrationsOptions {
  databaseUrl: string;
  /** Defaults to `<repo>/prisma/migrations`. */
  migrationsDir?: string;
  /** One line per applied migration, per warning, and while waiting for another run's lock. */
  log?: (line: string) => void;
}

export interface ApplyMigrationsResult {
  /** Names of the migrations applied by this call, in order. */
  applied: string[];
  /** Also passed to `log`: edited migrations, migrations missing locally. */
  warnings: string[];
}

interface LocalMigration {
  name: string;
  script: string;
  checksum: string;
}

interface MigrationRow {
  id: string;
  checksum: string;
  migration_name: string;
  started_at: Date;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  logs: string | null;
}

/**
 * Creates the database named in `databaseUrl` when it does not exist, through
 * the `postgres` maintenance database of the same server. Returns true when
 * this call created it (false when it existed, or another process won a race).
 */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const { name } = parseDatabaseUrl(databaseUrl);
  const target = new pg.Client(clientConfig(databaseUrl));
  try {
    await connect(target, databaseUrl);
    return false;
  } catch (error) {
    if (pgCode(error) !== '3D000') throw error; // 3D000: database does not exist
  } finally {
    await target.end().catch(() => undefined);
  }

  const maintenanceUrl = withDatabase(databaseUrl, 'postgres');
  const admin = new pg.Client(clientConfig(maintenanceUrl));
  try {
    await connect(admin, maintenanceUrl);
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    return true;
  } catch (error) {
    // Created concurrently: 42P04 duplicate_database when the other CREATE had
    // committed, 23505 on pg_database's name index when both were in flight.
    if (pgCode(error) === '42P04' || pgCode(error) === '23505') return false;
    throw error;
  } finally {
    await admin.end().catch(() => undefined);
  }
}

/**
 * Applies the migrations not yet recorded in `_prisma_migrations`, in folder
 * name order, each as one simple query, under Prisma's advisory lock.
 */
export async function applyMigrations(opts: ApplyMigrationsOptions): Promise<ApplyMigrationsResult> {
  const log = opts.log ?? (() => undefined);
  const migrationsDir = opts.migrationsDir ?? defaultMigrationsDir();
  const local = await readMigrations(migrationsDir);
  const warnings: string[] = [];
  const warn = (line: string) => {
    warnings.push(line);
    log(`warning: ${line}`);
  };

  const client = new pg.Client(clientConfig(opts.databaseUrl));
  await connect(client, opts.databaseUrl);
  try {
    await lock(client, log);
    try {
      const rows = await readMigrationTable(client, opts.databaseUrl);

      const failed = rows.find((row) => row.finished_at === null && row.rolled_back_at === null);
      if (failed) throw failedMigrationError(failed);

      const applied = new Map<string, MigrationRow>();
      for (const row of rows) {
        if (row.finished_at !== null && row.rolled_back_at === null) applied.set(row.migration_name, row);
      }
      for (const migration of local) {
        const row = applied.get(migration.name);
        if (row && !checksumMatches(migration, row.checksum)) {
          warn(
            `migration ${migration.name} was modified after it was applied (checksum differs from ` +
              `_prisma_migrations); it is not applied again. Restore the original file and put the change in a new migration.`,
          );
        }
      }
      const localNames = new Set(local.map((m) => m.name));
      for (const name of applied.keys()) {
        if (!localNames.has(name)) {
          warn(`migration ${name} is recorded in _prisma_migrations but missing from ${migrationsDir}.`);
        }
      }

      const done: string[] = [];
      for (const migration of local) {
        if (applied.has(migration.name)) continue;
        const started = Date.now();
        await applyOne(client, migration);
        done.push(migration.name);
        log(`applied ${migration.name} (${Date.now() - started} ms)`);
      }
      return { applied: done, warnings };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK]).catch(() => undefined);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function applyOne(client: pg.Client, migration: LocalMigration): Promise<void> {
  const id = randomUUID();
  await client.query(
    `INSERT INTO ${MIGRATIONS_TABLE} (id, checksum, migration_name, started_at, applied_steps_count)
     VALUES ($1, $2, $3, now(), 0)`,
    [id, migration.checksum, migration.name],
  );
  try {
    // No parameters: the simple query protocol runs the whole file, as Prisma does.
    await client.query(migration.script);
  } catch (error) {
    const logs = describeDatabaseError(error);
    await client.query(`UPDATE ${MIGRATIONS_TABLE} SET logs = $2 WHERE id = $1`, [id, logs]);
    throw new MigrationError(
      'P3018',
      `Migration ${migration.name} failed and is recorded as failed in _prisma_migrations; ` +
        `later migrations were not applied. ${logs.replace(/\s+/g, ' ').trim()}. ` +
        `Its SQL runs as one implicit transaction, so unless it holds statements that commit on their own nothing of it remains: ` +
        `fix migration.sql, then mark the attempt rolled back (${rolledBackSql(migration.name)}) and run the migrations again.`,
      { cause: error },
    );
  }
  await client.query(
    `UPDATE ${MIGRATIONS_TABLE} SET applied_steps_count = applied_steps_count + 1, finished_at = now() WHERE id = $1`,
    [id],
  );
}

async function lock(client: pg.Client, log: (line: string) => void): Promise<void> {
  const result = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
    PRISMA_ADVISORY_LOCK,
  ]);
  if (result.rows[0]?.locked) return;
  log(`waiting for another migration run to finish (advisory lock ${PRISMA_ADVISORY_LOCK})`);
  await client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK]);
}

/** Reads `_prisma_migrations`, creating it (as Prisma does) in an empty database. */
async function readMigrationTable(client: pg.Client, databaseUrl: string): Promise<MigrationRow[]> {
  const exists = await client.query<{ found: string | null }>(`SELECT to_regclass($1) AS found`, [MIGRATIONS_TABLE]);
  if (exists.rows[0]?.found == null) {
    const objects = await describeNonEmptySchema(client);
    if (objects.length > 0) {
      const { name } = parseDatabaseUrl(databaseUrl);
      throw new MigrationError(
        'P3005',
        `Database ${name} is not empty (${objects.join(', ')}) and has no _prisma_migrations table, ` +
          `so which migrations it already has is unknown (Prisma's P3005). Migrate an empty database instead, ` +
          `or baseline this one: record each migration it already matches in _prisma_migrations ` +
          `(https://pris.ly/d/migrate-baseline).`,
      );
    }
    // Prisma's own definition, column for column.
    await client.query(`CREATE TABLE ${MIGRATIONS_TABLE} (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`);
    return [];
  }
  const result = await client.query<MigrationRow>(
    `SELECT id, checksum, migration_name, started_at, finished_at, rolled_back_at, logs
       FROM ${MIGRATIONS_TABLE} ORDER BY started_at, migration_name`,
  );
  return result.rows;
}

/** A few of the objects that make the current schema non-empty, for the error message. */
async function describeNonEmptySchema(client: pg.Client): Promise<string[]> {
  const result = await client.query<{ what: string }>(
    `SELECT what FROM (
       SELECT CASE c.relkind WHEN 'v' THEN 'view ' WHEN 'm' THEN 'view ' WHEN 'S' THEN 'sequence '
              ELSE 'table ' END || c.relname AS what
         FROM pg_class c
        WHERE c.relnamespace = current_schema()::regnamespace
          AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
       UNION ALL
       SELECT 'type ' || t.typname
         FROM pg_type t
        WHERE t.typnamespace = current_schema()::regnamespace AND t.typtype IN ('e', 'd')
     ) objects ORDER BY what LIMIT 4`,
  );
  return result.rows.map((row) => row.what);
}

function failedMigrationError(row: MigrationRow): MigrationError {
  const firstLog = (row.logs ?? 'no logs recorded').replace(/\s+/g, ' ').trim();
  return new MigrationError(
    'P3009',
    `Migration ${row.migration_name} started at ${row.started_at.toISOString()} failed (${firstLog}); ` +
      `new migrations will not be applied until it is resolved (Prisma's P3009). ` +
      `Repair the database by hand, then either mark it rolled back to retry it (${rolledBackSql(row.migration_name)}) ` +
      `or, if you completed it by hand, mark it applied (UPDATE _prisma_migrations SET finished_at = now(), ` +
      `applied_steps_count = 1 WHERE id = '${row.id}'). See https://pris.ly/d/migrate-resolve.`,
  );
}

/** What `prisma migrate resolve --rolled-back <name>` does. */
function rolledBackSql(name: string): string {
  return `UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = '${name}' AND finished_at IS NULL`;
}

function describeDatabaseError(error: unknown): string {
  if (!(error instanceof Error)) return `Error: ${String(error)}`;
  const e = error as pg.DatabaseError;
  const lines: string[] = [];
  if (e.code) lines.push(`Database error code: ${e.code}`, '');
  lines.push('Database error:', `ERROR: ${e.message}`);
  if (e.detail) lines.push(`DETAIL: ${e.detail}`);
  if (e.hint) lines.push(`HINT: ${e.hint}`);
  if (e.position) lines.push(`POSITION: ${e.position}`);
  return lines.join('\n');
}

/** Migration folders (directories only: migration_lock.toml and the schema snapshot sit beside them). */
async function readMigrations(migrationsDir: string): Promise<LocalMigration[]> {
  let entries;
  try {
    entries = await readdir(migrationsDir, { withFileTypes: true });
  } catch (error) {
    throw new MigrationError('CONFIG', `Cannot read the migrations directory ${migrationsDir}: ${String(error)}`, {
      cause: error,
    });
  }
  await checkLockFile(migrationsDir);
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort((a, b) => a.localeCompare(b));

  return Promise.all(
    names.map(async (name) => {
      const file = path.join(migrationsDir, name, 'migration.sql');
      let script: string;
      try {
        script = await readFile(file, 'utf8');
      } catch (error) {
        throw new MigrationError(
          'P3015',
          `Migration folder ${name} has no readable migration.sql (${file}). ` +
            `Restore it, or delete the folder if it was never applied anywhere.`,
          { cause: error },
        );
      }
      return { name, script, checksum: sha256(script) };
    }),
  );
}

async function checkLockFile(migrationsDir: string): Promise<void> {
  const lockFile = path.join(migrationsDir, 'migration_lock.toml');
  const text = await readFile(lockFile, 'utf8').catch(() => null);
  if (text === null) return;
  const provider = /^\s*provider\s*=\s*"([^"]*)"/m.exec(text)?.[1];
  if (provider !== undefined && provider !== 'postgresql') {
    throw new MigrationError(
      'P3019',
      `${lockFile} says these migrations are for "${provider}", not "postgresql" (Prisma's P3019).`,
    );
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Like Prisma: a checksum matches the file as it is or with CRLF line ends turned into LF. */
function checksumMatches(migration: LocalMigration, checksum: string): boolean {
  return migration.checksum === checksum || sha256(migration.script.replace(/\r\n/g, '\n')) === checksum;
}

/** `<repo>/prisma/migrations`, found upwards from this file (src/ under tests and tsx, dist/ when built). */
function defaultMigrationsDir(): string {
  for (let dir = __dirname; ;) {
    const candidate = path.join(dir, 'prisma', 'migrations');
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new MigrationError(
    'CONFIG',
    `No prisma/migrations directory found above ${__dirname}; pass migrationsDir to applyMigrations.`,
  );
}

function parseDatabaseUrl(databaseUrl: string): { url: URL; name: string } {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new MigrationError('CONFIG', 'DATABASE_URL is not a valid URL (expected postgresql://user@host:5432/name).');
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    throw new MigrationError('CONFIG', `DATABASE_URL must start with postgresql://, not ${url.protocol}//.`);
  }
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) throw new MigrationError('CONFIG', 'DATABASE_URL names no database (expected .../<name> at its end).');
  return { url, name };
}

function withDatabase(databaseUrl: string, name: string): string {
  const { url } = parseDatabaseUrl(databaseUrl);
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}

function clientConfig(databaseUrl: string): pg.ClientConfig {
  parseDatabaseUrl(databaseUrl);
  return { connectionString: databaseUrl, connectionTimeoutMillis: CONNECT_TIMEOUT_MS };
}

/** Connects, turning "server unreachable" into a MigrationError that says where it looked. */
async function connect(client: pg.Client, databaseUrl: string): Promise<void> {
  try {
    await client.connect();
  } catch (error) {
    if (pgCode(error) === undefined || isNetworkError(error)) {
      const { url } = parseDatabaseUrl(databaseUrl);
      throw new MigrationError(
        'P1001',
        `Cannot reach PostgreSQL at ${url.hostname}:${url.port || '5432'} (${errorMessage(error)}). ` +
          `Start it, or point DATABASE_URL at a running server.`,
        { cause: error },
      );
    }
    throw error;
  }
}

function isNetworkError(error: unknown): boolean {
  const code = pgCode(error);
  return code !== undefined && /^E[A-Z]+$/.test(code);
}

function pgCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function errorMessage(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return errorMessage(error.errors[0]);
  return error instanceof Error ? error.message || error.constructor.name : String(error);
}
