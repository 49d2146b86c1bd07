import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { SqlTransactionGroups } from './groups.js';
import { defineStatement, sql } from './sql.js';
import { sqlTransaction, type SqlTx } from './statements.js';

let database: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  database = await createTestDatabase({ empty: true });
  pool = new pg.Pool({ connectionString: database.url, max: 6 });
  pool.on('error', () => undefined); // connections ended when the database is dropped
  await pool.query(`CREATE TABLE done (key text PRIMARY KEY, xact text NOT NULL)`);
});

afterAll(async () => {
  await pool.end();
  await database.drop();
});

beforeEach(() => pool.query('TRUNCATE done'));

/** The transaction's id, then a row for `key` written with the commit: what each member does. */
function work(key: string, between?: (tx: SqlTx) => Promise<void>) {
  return async (tx: SqlTx): Promise<string> => {
    const [[row]] = await tx.run(['SELECT txid_current()::text AS xact']);
    const xact = String(row!.xact);
    await between?.(tx);
    await tx.commit([`INSERT INTO done (key, xact) VALUES ('${key}', '${xact}')`]);
    return xact;
  };
}

async function committed(): Promise<Map<string, string>> {
  const { rows } = await pool.query<{ key: string; xact: string }>('SELECT key, xact FROM done');
  return new Map(rows.map((r) => [r.key, r.xact]));
}

/** A group that runs one transaction at a time: the first call runs alone, those made meanwhile together. */
const oneAtATime = () => new SqlTransactionGroups(pool, { maxInFlight: 1, maxMembers: 32 });

describe('SqlTransactionGroups', () => {
  it('runs transactions asked for while one is in flight as one transaction, each getting its own rows', async () => {
    const groups = oneAtATime();
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const xacts = await Promise.all(keys.map((k) => groups.run(k, work(k))));
    expect(new Set(xacts.slice(1)).size).toBe(1); // b…e shared one transaction
    expect(xacts[0]).not.toBe(xacts[1]); // a ran alone, first
    expect(await committed()).toEqual(new Map(keys.map((k, i) => [k, xacts[i]])));
  });

  it('never puts two transactions of one key in a group (their locks would not exclude each other)', async () => {
    const groups = oneAtATime();
    const xacts = await Promise.all(['x', 'a', 'a', 'b'].map((k, i) => groups.run(k, work(`${k}${i}`))));
    expect(xacts[1]).toBe(xacts[3]); // a and b together
    expect(xacts[2]).not.toBe(xacts[1]); // the second a in a group of its own
  });

  it('resolves a member that committed early only once the shared COMMIT is durable', async () => {
    const groups = oneAtATime();
    const seen: number[] = [];
    const early = async (tx: SqlTx) => {
      await tx.commit([`INSERT INTO done (key, xact) VALUES ('early', txid_current()::text)`]);
      // Another connection sees the row as soon as the commit returned.
      seen.push((await pool.query(`SELECT 1 FROM done WHERE key = 'early'`)).rowCount ?? 0);
    };
    const slow = work('slow', async (tx) => {
      await tx.run(['SELECT pg_sleep(0.05)']);
      await tx.run(['SELECT 1']);
    });
    await Promise.all([groups.run('first', work('first')), groups.run('early', early), groups.run('slow', slow)]);
    expect(seen).toEqual([1]);
    const rows = await committed();
    expect(rows.get('early')).toBe(rows.get('slow'));
  });

  it('runs the others again alone, and fails only the member that threw, when a member throws', async () => {
    const groups = oneAtATime();
    const boom = async (tx: SqlTx) => {
      await tx.run([`INSERT INTO done (key, xact) VALUES ('boom', 'x')`]);
      throw new Error('boom');
    };
    const results = await Promise.allSettled([
      groups.run('first', work('first')),
      groups.run('a', work('a')),
      groups.run('boom', boom),
      groups.run('c', work('c')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((results[2] as PromiseRejectedResult).reason).toEqual(new Error('boom'));
    const rows = await committed();
    expect([...rows.keys()].sort()).toEqual(['a', 'c', 'first']);
    expect(rows.get('a')).not.toBe(rows.get('c')); // each ran again in a transaction of its own
  });

  it('gives a member whose statement fails its own error, and commits the others', async () => {
    const groups = oneAtATime();
    await pool.query(`INSERT INTO done (key, xact) VALUES ('taken', 'x')`);
    const results = await Promise.allSettled([
      groups.run('first', work('first')),
      groups.run('a', work('a')),
      groups.run('taken', work('taken')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ code: '23505' });
    expect([...(await committed()).keys()].sort()).toEqual(['a', 'first', 'taken']);
  });

  it('runs members again alone when one rolls back, so the rollback undoes only its own writes', async () => {
    const groups = oneAtATime();
    const undone = async (tx: SqlTx) => {
      await tx.run([`INSERT INTO done (key, xact) VALUES ('undone', 'x')`]);
      await tx.rollback();
      return 'rolled back';
    };
    const results = await Promise.all([
      groups.run('first', work('first')),
      groups.run('a', work('a')),
      groups.run('undone', undone),
    ]);
    expect(results[2]).toBe('rolled back');
    expect([...(await committed()).keys()].sort()).toEqual(['a', 'first']);
  });

  it('runs members announcing the same exclusive lock again alone, each in its own transaction', async () => {
    const groups = oneAtATime();
    const capped = (key: string) =>
      work(key, async (tx) => {
        tx.exclusive(['cap:p']);
        await tx.run(['SELECT pg_advisory_xact_lock(42)']);
      });
    const xacts = await Promise.all([
      groups.run('first', work('first')),
      groups.run('a', capped('a')),
      groups.run('b', capped('b')),
      groups.run('c', work('c')),
    ]);
    expect(new Set(xacts).size).toBe(4);
    expect([...(await committed()).keys()].sort()).toEqual(['a', 'b', 'c', 'first']);
  });

  describe('combinable statements', () => {
    /** Rows of `done`, combinable: one element of each array per row. */
    const APPEND_DONE = defineStatement({
      name: 'test_append_done',
      combinable: true,
      params: { keys: 'text[]', xacts: 'text[]' },
      sql: (p) => sql`INSERT INTO done (key, xact) SELECT * FROM unnest(${p.keys}, ${p.xacts})`,
    });
    /** The members' rows, and which statement of its transaction wrote each (`cmin`: its command id). */
    const written = async () =>
      new Map(
        (
          await pool.query<{ key: string; at: string }>(`SELECT key, xmin::text || '/' || cmin::text AS at FROM done`)
        ).rows.map((r) => [r.key, r.at]),
      );
    const appending = (key: string) => async (tx: SqlTx) => {
      const [[row]] = await tx.run(['SELECT txid_current()::text AS xact']);
      const [mine, stamped] = await tx.commit([
        `SELECT '${key}' AS key`,
        tx.call(APPEND_DONE, { keys: [`${key}1`], xacts: [String(row!.xact)] }),
      ]);
      expect(stamped).toEqual([]); // a combinable call returns no rows
      return mine;
    };

    it('sends the calls of a group’s members as one statement after the others, each member getting its rows', async () => {
      const groups = oneAtATime();
      const rows = await Promise.all(['first', 'a', 'b', 'c'].map((k) => groups.run(k, appending(k))));
      expect(rows).toEqual(['first', 'a', 'b', 'c'].map((key) => [{ key }]));
      const at = await written();
      expect(at.get('a1')).toBe(at.get('b1'));
      expect(at.get('b1')).toBe(at.get('c1'));
      expect(at.get('first1')).not.toBe(at.get('a1'));
    });

    it('sends one transaction’s calls of one message as one statement, and refuses a statement after them', async () => {
      await sqlTransaction(pool, async (tx) => {
        await tx.run(['SELECT 1']);
        await tx.commit([
          tx.call(APPEND_DONE, { keys: ['x', 'y'], xacts: ['1', '1'] }),
          tx.call(APPEND_DONE, { keys: ['z'], xacts: ['1'] }),
        ]);
      });
      const at = await written();
      expect(new Set([at.get('x'), at.get('y'), at.get('z')]).size).toBe(1);
      await expect(
        sqlTransaction(pool, (tx) => tx.commit([tx.call(APPEND_DONE, { keys: ['w'], xacts: ['1'] }), 'SELECT 1'])),
      ).rejects.toThrow('a combinable call must come after the other statements of its message');
    });
  });
});
