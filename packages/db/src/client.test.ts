import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { waitFor } from '../../../test/support/wait.js';
import { closeDb, createDb, isDatabaseUnavailable, sqlPool, type Db } from './client.js';
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
