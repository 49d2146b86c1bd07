import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { defineStatement, json, sql } from './sql.js';
import { sqlTransaction, runStatement, setPreparedStatements } from './statements.js';

let database: TestDatabase;
const pools: pg.Pool[] = [];

beforeAll(async () => {
  database = await createTestDatabase({ empty: true });
  const pool = new pg.Pool({ connectionString: database.url, max: 1 });
  await pool.query(`CREATE TABLE things (id uuid PRIMARY KEY, tags text[], doc jsonb, n int, at timestamptz)`);
  await pool.end();
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await database.drop();
});

function poolWith(prepared: boolean): pg.Pool {
  const pool = new pg.Pool({ connectionString: database.url, max: 1 });
  pool.on('error', () => undefined); // connections ended when the database is dropped
  setPreparedStatements(pool, prepared);
  pools.push(pool);
  return pool;
}

const INSERT = defineStatement({
  name: 'test_insert_thing',
  params: { id: 'uuid', tags: 'text[]', doc: 'jsonb | null', n: 'int', at: 'timestamptz | null' },
  row: { id: 'text', tags: 'text[]', doc: json<unknown>('jsonb | null'), n: 'int', at: 'timestamptz | null' },
  sql: (p) => sql`INSERT INTO things (id, tags, doc, n, at) VALUES (${p.id}, ${p.tags}, ${p.doc}, ${p.n}, ${p.at})
   RETURNING id::text, tags, doc, n, at`,
});
const COUNT = defineStatement({
  name: 'test_count_things',
  params: { ids: 'uuid[]' },
  row: { n: 'int' },
  sql: (p) => sql`SELECT count(*)::int AS n FROM things WHERE id = ANY(${p.ids})`,
});
/** Planned for its values every time: its text with the values written in, never prepared. */
const COUNT_UNPREPARED = defineStatement({
  name: 'test_count_things_unprepared',
  params: { ids: 'uuid[]', doc: 'jsonb | null' },
  row: { n: 'int' },
  prepared: false,
  sql: (p) =>
    sql`SELECT count(*)::int AS n FROM things WHERE id = ANY(${p.ids}) AND (${p.doc} IS NULL OR doc = ${p.doc})`,
});

describe.each([
  ['prepared', true],
  ['inline', false],
])('statements run %s', (_mode, prepared) => {
  it('give the same rows either way (quotes, backslashes, NULLs), in a transaction of several messages', async () => {
    const pool = poolWith(prepared);
    const id = crypto.randomUUID();
    const at = new Date('2026-11-26T12:00:00.123Z');
    const rows = await sqlTransaction(pool, async (tx) => {
      const [inserted = []] = await tx.run([
        tx.call(INSERT, { id, tags: ['x', 'y "z"', 'c\\d{,}', null], doc: { k: ["v'\\"] }, n: 7, at }),
      ]);
      const [counted = [], unprepared = []] = await tx.commit([
        tx.call(COUNT, { ids: [id, crypto.randomUUID()] }),
        tx.call(COUNT_UNPREPARED, { ids: [id], doc: { k: ["v'\\"] } }),
      ]);
      return { inserted, counted, unprepared };
    });
    expect(rows.inserted).toEqual([{ id, tags: ['x', 'y "z"', 'c\\d{,}', null], doc: { k: ["v'\\"] }, n: 7, at }]);
    expect(rows.counted).toEqual([{ n: 1 }]);
    expect(rows.unprepared).toEqual([{ n: 1 }]);
    expect(await runStatement(pool, COUNT, { ids: [id] })).toEqual([{ n: 1 }]);
    expect(await runStatement(pool, COUNT_UNPREPARED, { ids: [id], doc: ['not', 'it'] })).toEqual([{ n: 0 }]);
    expect(await runStatement(pool, COUNT_UNPREPARED, { ids: [id], doc: { k: ["v'\\"] } })).toEqual([{ n: 1 }]);
  });

  it('roll back with the transaction, and the connection goes on working', async () => {
    const pool = poolWith(prepared);
    const id = crypto.randomUUID();
    await expect(
      sqlTransaction(pool, async (tx) => {
        await tx.query(INSERT, { id, tags: [], doc: null, n: 1, at: null });
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await runStatement(pool, COUNT, { ids: [id] })).toEqual([{ n: 0 }]);
    // A failed statement aborts the transaction; the next one on the same connection starts clean.
    await expect(
      sqlTransaction(pool, (tx) =>
        tx.run([tx.call(INSERT, { id, tags: [], doc: null, n: 1, at: null }), 'SELECT 1/0']),
      ),
    ).rejects.toThrow(/division by zero/);
    expect(await runStatement(pool, COUNT, { ids: [id] })).toEqual([{ n: 0 }]);
    // Also when the statement that fails is sent with the COMMIT, after others: the transaction is rolled back.
    await expect(
      sqlTransaction(pool, async (tx) => {
        await tx.query(INSERT, { id, tags: [], doc: null, n: 1, at: null });
        await tx.commit(['SELECT 1/0']);
      }),
    ).rejects.toThrow(/division by zero/);
    expect(await runStatement(pool, COUNT, { ids: [id] })).toEqual([{ n: 0 }]);
  });
});

it('prepares a statement once per connection, and not at all when prepared statements are off', async () => {
  const prepared = poolWith(true);
  const inline = poolWith(false);
  for (let i = 0; i < 3; i++) {
    await runStatement(prepared, COUNT, { ids: [] });
    await runStatement(inline, COUNT, { ids: [] });
    await sqlTransaction(prepared, (tx) => tx.query(COUNT_UNPREPARED, { ids: [], doc: null }));
  }
  const names = async (pool: pg.Pool) =>
    (await pool.query<{ name: string }>('SELECT name FROM pg_prepared_statements ORDER BY name')).rows.map(
      (r) => r.name,
    );
  // max: 1, so this is the connection that ran the statements; one that is not `prepared` never is.
  expect(await names(prepared)).toEqual(['test_count_things']);
  expect(await names(inline)).toEqual([]);
});

it('does not give back a connection whose statement timed out: the next transaction gets a fresh one', async () => {
  const pool = new pg.Pool({ connectionString: database.url, max: 1, query_timeout: 200 });
  // The timed-out connection is dropped while its statement still runs; the server ends it later.
  pool.on('error', () => undefined);
  pools.push(pool);
  const pid = async () =>
    sqlTransaction(pool, async (tx) => {
      const [rows = []] = await tx.run(['SELECT pg_backend_pid() AS pid']);
      return rows[0]!.pid as number;
    });
  const before = await pid();
  await expect(sqlTransaction(pool, (tx) => tx.run(['SELECT pg_sleep(2)']))).rejects.toThrow(/timeout/i);
  // The timed-out connection is still sleeping: reusing it would wait behind it.
  const started = Date.now();
  expect(await pid()).not.toBe(before);
  expect(Date.now() - started).toBeLessThan(1_000);
});

describe('sqlTransaction on a deadlock', () => {
  /**
   * Two transactions that lock the same two rows in opposite orders, each
   * waiting until the other holds its first lock: PostgreSQL aborts one of
   * them (40P01). Returns what each came to and how many times the work ran.
   */
  async function deadlock(retryConflicts: boolean) {
    const pool = new pg.Pool({ connectionString: database.url, max: 2 });
    pool.on('error', () => undefined); // connections ended when the database is dropped
    pools.push(pool);
    const [a, b] = [crypto.randomUUID(), crypto.randomUUID()];
    await pool.query('INSERT INTO things (id, n) VALUES ($1, 0), ($2, 0)', [a, b]);
    let runs = 0;
    let holding = 0;
    let bothHold!: () => void;
    const bothHolding = new Promise<void>((resolve) => (bothHold = resolve));
    const lockBoth = (first: string, second: string) =>
      sqlTransaction(
        pool,
        async (tx) => {
          runs++;
          await tx.run([
            `SET LOCAL deadlock_timeout = '50ms'`,
            `SELECT 1 FROM things WHERE id = '${first}' FOR UPDATE`,
          ]);
          if (++holding === 2) bothHold();
          await bothHolding;
          await tx.run([`UPDATE things SET n = n + 1 WHERE id = '${second}'`]);
        },
        { retryConflicts },
      );
    const outcomes = await Promise.allSettled([lockBoth(a, b), lockBoth(b, a)]);
    const { rows } = await pool.query<{ n: number }>('SELECT sum(n)::int AS n FROM things WHERE id IN ($1, $2)', [
      a,
      b,
    ]);
    return {
      outcomes: outcomes.map((o) => (o.status === 'fulfilled' ? 'done' : (o.reason as { code?: string }).code)),
      runs,
      updates: rows[0]!.n,
    };
  }

  it('fails the transaction PostgreSQL aborted, by default', async () => {
    const { outcomes, runs, updates } = await deadlock(false);
    expect(outcomes.sort()).toEqual(['40P01', 'done']);
    expect({ runs, updates }).toEqual({ runs: 2, updates: 1 });
  });

  it('runs it again, from the start, with retryConflicts', async () => {
    const { outcomes, runs, updates } = await deadlock(true);
    expect(outcomes).toEqual(['done', 'done']);
    // Each aborted run was rolled back: each transaction's update counts once.
    expect(updates).toBe(2);
    expect(runs).toBeGreaterThan(2);
  });
});

describe('sqlTransaction when every connection of the pool is busy', () => {
  function busyPool(): { pool: pg.Pool; hold(): Promise<() => void> } {
    const pool = new pg.Pool({ connectionString: database.url, max: 1, connectionTimeoutMillis: 200 });
    pool.on('error', () => undefined);
    pools.push(pool);
    return {
      pool,
      async hold() {
        const client = await pool.connect();
        return () => client.release();
      },
    };
  }
  const count = (pool: pg.Pool) => sqlTransaction(pool, async (tx) => (await tx.query(COUNT, { ids: [] }))[0]!.n);

  it('fails once the pool has waited its connectionTimeoutMillis, by default', async () => {
    const { pool, hold } = busyPool();
    const release = await hold();
    try {
      await expect(count(pool)).rejects.toThrow('timeout exceeded when trying to connect');
    } finally {
      release();
    }
  });

  it('goes on waiting for a connection with busyPoolPatienceMs, and runs once one is free', async () => {
    const { pool, hold } = busyPool();
    const release = await hold();
    const started = Date.now();
    const freed = new Promise<void>((resolve) =>
      setTimeout(() => {
        release();
        resolve();
      }, 700),
    );
    const n = await sqlTransaction(pool, async (tx) => (await tx.query(COUNT, { ids: [] }))[0]!.n, {
      busyPoolPatienceMs: 10_000,
    });
    await freed;
    expect(n).toBe(0);
    // It waited past several of the pool's own 200 ms waits for the connection held 700 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(650);
  });

  it('still fails when its patience runs out', async () => {
    const { pool, hold } = busyPool();
    const release = await hold();
    try {
      await expect(sqlTransaction(pool, async () => 1, { busyPoolPatienceMs: 500 })).rejects.toThrow(
        'timeout exceeded when trying to connect',
      );
    } finally {
      release();
    }
  });
});
