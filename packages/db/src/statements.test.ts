import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { inTransaction, runStatement, setPreparedStatements, sqlValue, statement } from './statements.js';

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

const INSERT = statement(
  'test_insert_thing',
  ['uuid', 'text[]', 'jsonb', 'int', 'timestamptz'],
  `INSERT INTO things (id, tags, doc, n, at) VALUES ($1, $2, $3, $4, $5)
   RETURNING id::text, tags, doc, n, at`,
);
const COUNT = statement('test_count_things', ['uuid[]'], `SELECT count(*)::int AS n FROM things WHERE id = ANY($1)`);

describe('statement', () => {
  it('refuses a bad name, a name used twice, and types that do not match the placeholders', () => {
    expect(() => statement('bad name', [], 'SELECT 1')).toThrow(/not a valid name/);
    expect(() => statement('test_insert_thing', [], 'SELECT 1')).toThrow(/defined twice/);
    expect(() => statement('test_too_few', ['int'], 'SELECT $1, $2')).toThrow(/1 types for 2 placeholders/);
  });

  it('writes values as typed SQL expressions', () => {
    expect(sqlValue(null, 'uuid')).toBe('NULL::uuid');
    expect(sqlValue("it's", 'text')).toBe("'it''s'::text");
    expect(sqlValue({ a: "'" }, 'jsonb')).toBe(`'{"a":"''"}'::jsonb`);
    expect(sqlValue(new Date('2026-01-02T03:04:05.678Z'), 'timestamptz')).toBe(
      "'2026-01-02T03:04:05.678Z'::timestamptz",
    );
    expect(() => sqlValue(Number.NaN, 'int')).toThrow(/not a number/);
  });
});

describe.each([
  ['prepared', true],
  ['inline', false],
])('statements run %s', (_mode, prepared) => {
  it('give the same rows either way (quotes, backslashes, NULLs), in a transaction of several messages', async () => {
    const pool = poolWith(prepared);
    const id = crypto.randomUUID();
    const at = new Date('2026-11-26T12:00:00.123Z');
    const rows = await inTransaction(pool, async (tx) => {
      const [inserted = []] = await tx.run([
        tx.call(INSERT, id, ['x', 'y "z"', 'c\\d{,}', null], { k: ["v'\\"] }, 7, at),
      ]);
      const [counted = []] = await tx.commit([tx.call(COUNT, [id, crypto.randomUUID()])]);
      return { inserted, counted };
    });
    expect(rows.inserted).toEqual([{ id, tags: ['x', 'y "z"', 'c\\d{,}', null], doc: { k: ["v'\\"] }, n: 7, at }]);
    expect(rows.counted).toEqual([{ n: 1 }]);
    expect(await runStatement(pool, COUNT, [id])).toEqual([{ n: 1 }]);
  });

  it('roll back with the transaction, and the connection goes on working', async () => {
    const pool = poolWith(prepared);
    const id = crypto.randomUUID();
    await expect(
      inTransaction(pool, async (tx) => {
        await tx.run([tx.call(INSERT, id, [], null, 1, null)]);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await runStatement(pool, COUNT, [id])).toEqual([{ n: 0 }]);
    // A failed statement aborts the transaction; the next one on the same connection starts clean.
    await expect(
      inTransaction(pool, (tx) => tx.run([tx.call(INSERT, id, [], null, 1, null), 'SELECT 1/0'])),
    ).rejects.toThrow(/division by zero/);
    expect(await runStatement(pool, COUNT, [id])).toEqual([{ n: 0 }]);
  });
});

it('prepares a statement once per connection, and not at all when prepared statements are off', async () => {
  const prepared = poolWith(true);
  const inline = poolWith(false);
  for (let i = 0; i < 3; i++) {
    await runStatement(prepared, COUNT, []);
    await runStatement(inline, COUNT, []);
  }
  const names = async (pool: pg.Pool) =>
    (await pool.query<{ name: string }>('SELECT name FROM pg_prepared_statements ORDER BY name')).rows.map(
      (r) => r.name,
    );
  // max: 1, so this is the connection that ran the statements.
  expect(await names(prepared)).toEqual(['test_count_things']);
  expect(await names(inline)).toEqual([]);
});

it('does not give back a connection whose statement timed out: the next transaction gets a fresh one', async () => {
  const pool = new pg.Pool({ connectionString: database.url, max: 1, query_timeout: 200 });
  // The timed-out connection is dropped while its statement still runs; the server ends it later.
  pool.on('error', () => undefined);
  pools.push(pool);
  const pid = async () =>
    inTransaction(pool, async (tx) => {
      const [rows = []] = await tx.run(['SELECT pg_backend_pid() AS pid']);
      return rows[0]!.pid as number;
    });
  const before = await pid();
  await expect(inTransaction(pool, (tx) => tx.run(['SELECT pg_sleep(2)']))).rejects.toThrow(/timeout/i);
  // The timed-out connection is still sleeping: reusing it would wait behind it.
  const started = Date.now();
  expect(await pid()).not.toBe(before);
  expect(Date.now() - started).toBeLessThan(1_000);
});
