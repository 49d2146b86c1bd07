import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { runStatement } from './statements.js';
import { CREATE_TIME_PARTITIONS, DROP_TIME_PARTITIONS } from './tables/partitions.js';

/**
 * The functions of prisma/hand-written/partitions.sql (ADR 0035, Decision 4) on a table of their own, by month:
 * bounds and names are UTC whatever the session's time zone, a month's rows move out of the DEFAULT partition
 * when its partition is made, partitions end where the next begins, and bad arguments are refused by name.
 */
describe('create_time_partitions and drop_time_partitions by month', () => {
  let database: TestDatabase;
  let pool: pg.Pool;

  beforeAll(async () => {
    database = await createTestDatabase();
    // A session far from UTC, with daylight saving time in March: bounds must not move.
    pool = new pg.Pool({ connectionString: database.url, max: 1, options: '-c TimeZone=America/New_York' });
    await pool.query(`CREATE TABLE month_things (at timestamptz NOT NULL, n int) PARTITION BY RANGE (at);
      CREATE TABLE month_things_default PARTITION OF month_things DEFAULT;
      CREATE TABLE plain_things (at timestamptz NOT NULL)`);
  });
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  const bounds = async () =>
    (
      await pool.query<{ name: string; lo: string | null; hi: string | null; rows: number }>(
        `SELECT c.relname AS name, to_char(b.lo AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS lo,
                to_char(b.hi AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS hi,
                (SELECT count(*)::int FROM month_things t WHERE t.tableoid = c.oid) AS rows
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid, time_partition_bounds(i.inhrelid) b
         WHERE i.inhparent = 'month_things'::regclass ORDER BY c.relname`,
      )
    ).rows;

  it('make the month of `at` (UTC) and the next ones, moving what the DEFAULT partition took for them', async () => {
    await pool.query(`INSERT INTO month_things VALUES ('2031-02-15T12:00:00Z', 1), ('2031-03-31T23:30:00Z', 2),
      ('2031-04-01T00:30:00Z', 3), ('2031-09-01T00:00:00Z', 4)`);
    // 2031-01-31T23:00Z is still January in UTC (and in New York); it is February 1st nowhere here.
    const made = await runStatement(pool, CREATE_TIME_PARTITIONS, {
      table: 'month_things',
      unit: 'month',
      ahead: 2,
      at: new Date('2031-01-31T23:00:00Z'),
    });
    expect(made.map((r) => r.partition)).toEqual([
      'month_things_p203101',
      'month_things_p203102',
      'month_things_p203103',
    ]);
    expect(await bounds()).toEqual([
      { name: 'month_things_default', lo: null, hi: null, rows: 2 },
      { name: 'month_things_p203101', lo: '2031-01-01 00:00', hi: '2031-02-01 00:00', rows: 0 },
      { name: 'month_things_p203102', lo: '2031-02-01 00:00', hi: '2031-03-01 00:00', rows: 1 },
      { name: 'month_things_p203103', lo: '2031-03-01 00:00', hi: '2031-04-01 00:00', rows: 1 },
    ]);
    expect(
      await runStatement(pool, CREATE_TIME_PARTITIONS, {
        table: 'month_things',
        unit: 'month',
        ahead: 2,
        at: new Date('2031-02-10T00:00:00Z'),
      }),
    ).toEqual([{ partition: 'month_things_p203104' }]);
    expect((await bounds()).find((b) => b.name === 'month_things_p203104')).toMatchObject({ rows: 1 });
  });

  it('drop the months wholly before the time given, never the DEFAULT partition', async () => {
    const dropped = await runStatement(pool, DROP_TIME_PARTITIONS, {
      table: 'month_things',
      before: new Date('2031-03-01T00:00:00Z'),
    });
    expect(dropped).toEqual([
      { partition: 'month_things_p203101', rows: 0 },
      { partition: 'month_things_p203102', rows: 1 },
    ]);
    expect((await bounds()).map((b) => b.name)).toEqual([
      'month_things_default',
      'month_things_p203103',
      'month_things_p203104',
    ]);
    expect(await runStatement(pool, DROP_TIME_PARTITIONS, { table: 'month_things', before: new Date(0) })).toEqual([]);
  });

  it('refuse a unit other than day or month, and a table not partitioned by range', async () => {
    const create = (table: string, unit: string) =>
      runStatement(pool, CREATE_TIME_PARTITIONS, { table, unit, ahead: 1, at: new Date() });
    await expect(create('month_things', 'week')).rejects.toThrow('unit must be day or month, not week');
    await expect(create('plain_things', 'day')).rejects.toThrow('plain_things is not partitioned by range');
    await expect(create('no_such_table', 'day')).rejects.toThrow('relation "no_such_table" does not exist');
  });
});
