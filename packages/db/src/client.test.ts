import pg from 'pg';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { waitFor } from '../../../test/support/wait.js';
import { closeDb, createDb, isDatabaseUnavailable, PrismaClient, prismaMade, sqlPool, type Db } from './client.js';
import { defineStatement, sql } from './sql.js';
import { runStatement, sqlTransaction } from './statements.js';

/**
 * PostgreSQL ending a connection that a transaction or a statement has
 * checked out of the pool (`pg_terminate_backend`, a restart, a failover):
 * node-postgres emits the failure as an 'error' event on the connection,
 * which would end the process if nothing listened. The pool listens on its
 * idle connections only; `createDb` listens on every one.
 */
describe('createDb: a connection ended while it is checked out', () => {
  let database: TestDatabase;
  let db: Db;
  let admin: pg.Client;
  const failures: Error[] = [];

  beforeAll(async () => {
    database = await createTestDatabase({ empty: true });
    db = createDb({ databaseUrl: database.url, poolMax: 2, onConnectionError: (err) => failures.push(err) });
    admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    if (db) await closeDb(db);
    await database?.drop();
  });
  beforeEach(() => (failures.length = 0));

  const terminate = (pid: number) => admin.query('SELECT pg_terminate_backend($1)', [pid]);
  const BACKEND = defineStatement({
    name: 'test_backend_pid',
    params: { plus: 'int' },
    row: { pid: 'int' },
    sql: (p) => sql`SELECT pg_backend_pid() + ${p.plus} AS pid`,
  });

  it('between two messages of a transaction: the transaction fails as unavailable, the process goes on', async () => {
    const pool = sqlPool(db);
    let ended: number | undefined;
    const failed = await sqlTransaction(pool, async (tx) => {
      const [row] = await tx.query(BACKEND, { plus: 0 });
      ended = row!.pid;
      await terminate(ended);
      // The connection is held, with nothing in flight on it, when PostgreSQL ends it.
      await waitFor(() => failures.length > 0, { what: 'the connection to fail' });
      await tx.run(['SELECT 1']);
    }).catch((err: unknown) => err);

    expect(isDatabaseUnavailable(failed)).toBe(true);
    expect(failures.map((e) => (e as { code?: string }).code)).toEqual(['57P01']);
    // The dead connection was not given back: the next transaction runs on a new one.
    const [row] = await runStatement(pool, BACKEND, { plus: 0 });
    expect(row!.pid).not.toBe(ended);
  });

  it('while a statement runs on it: the statement fails as unavailable, the process goes on', async () => {
    const pool = sqlPool(db);
    const SLEEP = 'SELECT pg_sleep(30)';
    const sleeping = sqlTransaction(pool, (tx) => tx.run([SLEEP])).catch((err: unknown) => err);
    const sleeper = await waitFor(
      async () =>
        (
          await admin.query<{ pid: number }>(
            `SELECT pid FROM pg_stat_activity WHERE query LIKE '%' || $1 AND pid <> pg_backend_pid()`,
            [SLEEP],
          )
        ).rows[0]?.pid,
      { what: 'the statement to run' },
    );
    await terminate(sleeper);
    expect(isDatabaseUnavailable(await sleeping)).toBe(true);
    expect((await runStatement(pool, BACKEND, { plus: 0 }))[0]!.pid).not.toBe(sleeper);
  });
});

/**
 * `createDb` makes its PrismaClient on first use: making one deserializes Prisma's graph of the whole schema
 * (about 5 MB of heap for the process' life), which the worker and an ingest serving sources never use, and V8
 * lets a heap grow to about four times what it keeps before a full collection (docs/performance.md, "The
 * worker's peak RSS").
 */
describe('createDb: the PrismaClient is made on first use', () => {
  let database: TestDatabase;
  const opened: Db[] = [];
  const open = () => {
    const db = createDb({ databaseUrl: database.url, poolMax: 2 });
    opened.push(db);
    return db;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    for (const db of opened) await closeDb(db);
    await database?.drop();
  });

  it('costs no heap until then', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    open(); // anything loaded once per process is loaded before the measure
    const heap = () => {
      gc();
      gc();
      return process.memoryUsage().heapUsed;
    };
    const before = heap();
    const clients = [open(), open(), open(), open()];
    const perClient = (heap() - before) / clients.length;
    // A made PrismaClient holds about 5 MB (4.9 measured); the stand-in and its pool a few kilobytes.
    expect(perClient).toBeLessThan(500_000);
    expect(clients.map(prismaMade)).toEqual([false, false, false, false]);
  });

  it('is not made by SQL on the pool, is made by a model, a transaction or a raw query, and works', async () => {
    const db = open();
    await sqlPool(db).query('SELECT 1');
    expect(prismaMade(db)).toBe(false);
    expect(db instanceof PrismaClient).toBe(true);
    expect(prismaMade(db)).toBe(false);

    expect(await db.source.count()).toBe(0);
    expect(prismaMade(db)).toBe(true);
    // Its methods are bound to it once: the same function each time, called without `db` as `this` too.
    expect(db.$transaction).toBe(db.$transaction);
    const { $transaction, $queryRaw } = db;
    expect(await $transaction(async (tx) => tx.partner.count())).toBe(0);
    expect(await $transaction([db.source.count(), db.route.count()])).toEqual([0, 0]);
    expect(await $queryRaw<{ n: number }[]>`SELECT 2::int AS n`).toEqual([{ n: 2 }]);
    expect('source' in db).toBe(true);

    const other = open();
    expect(await other.$queryRaw<{ n: number }[]>`SELECT 3::int AS n`).toEqual([{ n: 3 }]);
    expect(prismaMade(other)).toBe(true);
  });

  it('closeDb ends the pool of a client whose PrismaClient was never made, without making it', async () => {
    const db = createDb({ databaseUrl: database.url, poolMax: 1 });
    const pool = sqlPool(db);
    await pool.query('SELECT 1');
    await closeDb(db);
    expect(prismaMade(db)).toBe(false);
    expect((pool as { ended?: boolean }).ended).toBe(true);
  });
});
