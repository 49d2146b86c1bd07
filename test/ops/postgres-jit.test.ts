import pg from 'pg';
import { closeDb, createDb, sqlPool, type Db } from '@leadrouter/db';
import { serverUrl } from '../support/database';

/** A plan whose estimated cost passes jit_above_cost = 0: compiled wherever JIT is on. */
const EXPLAIN = 'EXPLAIN (ANALYZE, FORMAT JSON) SELECT sum(g) FROM generate_series(1, 10000) AS g';
const compiled = (rows: { 'QUERY PLAN': unknown }[]) => 'JIT' in (rows[0]!['QUERY PLAN'] as object[])[0]!;

/**
 * The services' statements are short; PostgreSQL compiles any statement whose plan's estimated cost passes
 * jit_above_cost, which a generic plan over a big table reaches on every call (ADR 0041: the cap check spent
 * 16 ms a lead compiling on a 10 M-lead database). Every connection of `createDb`'s pool has JIT off.
 */
describe("the services' PostgreSQL connections", () => {
  let db: Db;
  beforeAll(() => {
    db = createDb({ databaseUrl: serverUrl('postgres') });
  });
  afterAll(() => closeDb(db));

  it('never JIT-compile, even a plan past jit_above_cost that a plain connection compiles', async () => {
    const plain = new pg.Client({ connectionString: serverUrl('postgres') });
    await plain.connect();
    try {
      const { rows } = await plain.query<{ available: boolean }>('SELECT pg_jit_available() AS available');
      await plain.query('SET jit_above_cost = 0');
      // The control: this server compiles the plan on a connection left to its defaults (when it can JIT at all).
      expect(compiled((await plain.query(EXPLAIN)).rows)).toBe(rows[0]!.available);
    } finally {
      await plain.end();
    }

    const clients = await Promise.all([1, 2, 3].map(() => sqlPool(db).connect()));
    try {
      for (const client of clients) {
        expect((await client.query('SHOW jit')).rows).toEqual([{ jit: 'off' }]);
        await client.query('SET jit_above_cost = 0');
        expect(compiled((await client.query(EXPLAIN)).rows)).toBe(false);
        await client.query('RESET jit_above_cost');
      }
    } finally {
      clients.forEach((c) => c.release());
    }
    // Prisma's queries (the admin API, the CLI) run on the same pool.
    expect(await db.$queryRaw`SHOW jit`).toEqual([{ jit: 'off' }]);
  });
});
