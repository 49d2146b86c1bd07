import { randomUUID } from 'node:crypto';
import { useDatabaseMigratedBefore } from '../../../test/support/migrations.js';
import { applyMigrations } from './migrate.js';
import { orderedValues } from './sql.js';
import { inlineSql, runStatement } from './statements.js';
import { CREATE_TIME_PARTITIONS, DROP_TIME_PARTITIONS } from './tables/partitions.js';
import { PARTNER_PINGS_SINCE, RECORD_PING_BIDS, RECORD_PINGS, SOURCE_PINGS_SINCE } from './tables/pings.js';

const FIRST = '20261202220000_ping_partitions_prepare';
const SWITCH = '20261202220400_ping_partitions';
const PINGS = 30_000;
const DAY_MS = 24 * 60 * 60_000;

/**
 * The conversion of existing pings and ping_bids into tables partitioned by day (ADR 0032, 0035 Decision 4): on
 * a database migrated up to just before it and seeded with PINGS pings of the last 40 days and three answers
 * each, every row is kept, in the partition of the rows from before partitioning; the PingLog's statements
 * record once (a repeat is no row and no report figure) into the day's partition; the stats' statements read
 * only the partitions of their window; and the housekeeping's statements make days ahead and drop the old
 * partition once all of it is past the retention.
 */
describe(`migrations ${FIRST} to ${SWITCH}`, () => {
  const m = useDatabaseMigratedBefore(FIRST);
  const { one } = m;

  /** Every row of both tables, in key order, as digests. */
  const digests = async () => ({
    pings: await one(
      `SELECT count(*)::int AS rows, md5(string_agg(concat_ws('|', id, source_id, route_id, status, best_bid, source_bid,
              geo, channel, extract(epoch FROM created_at)), ',' ORDER BY id)) AS digest FROM pings`,
    ),
    bids: await one(
      `SELECT count(*)::int AS rows, md5(string_agg(concat_ws('|', ping_id, partner_id, outcome, bid, rank, duration_ms,
              extract(epoch FROM created_at)), ',' ORDER BY ping_id, partner_id)) AS digest FROM ping_bids`,
    ),
  });
  const partitionOf = async (table: string, where: string) =>
    (await one<{ part: string }>(`SELECT tableoid::regclass::text AS part FROM ${table} WHERE ${where} LIMIT 1`)).part;
  /** The partitions a statement's plan reads (its scans' relation names). */
  const scanned = async (sql: string, values: unknown[]) => {
    const { rows } = await m.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, values);
    return [...new Set(rows.flatMap((r) => [...r['QUERY PLAN'].matchAll(/ on (\w+)/g)].map((m) => m[1]!)))].sort();
  };

  it('keep every ping and answer, record new ones once in their day, and read only the days a window asks', async () => {
    const sources = [randomUUID(), randomUUID()];
    const partners = [randomUUID(), randomUUID(), randomUUID()];
    await m.pool.query(
      `INSERT INTO pings (id, source_id, route_id, status, best_bid, source_bid, geo, channel, created_at)
       SELECT gen_random_uuid(), ($1::uuid[])[1 + i % 2], NULL, CASE WHEN i % 5 = 0 THEN 'no_bid' ELSE 'bid' END,
              CASE WHEN i % 5 = 0 THEN NULL ELSE 10 + i % 7 END, CASE WHEN i % 5 = 0 THEN NULL ELSE 4.25 END,
              'US', NULL, now() - (i * interval '40 days' / $2::int)
       FROM generate_series(1, $2::int) AS i`,
      [sources, PINGS],
    );
    await m.pool.query(
      `INSERT INTO ping_bids (ping_id, partner_id, outcome, bid, rank, duration_ms, created_at)
       SELECT p.id, pa, 'bid', 10 + n, 4 - n, 40 + n, p.created_at
       FROM pings AS p, unnest($1::uuid[]) WITH ORDINALITY AS x (pa, n)`,
      [partners],
    );
    const before = await digests();
    expect(before.pings.rows).toBe(PINGS);
    expect(before.bids.rows).toBe(PINGS * 3);

    const applied = await applyMigrations({ databaseUrl: m.database.url, log: () => undefined });
    expect(applied.applied[0]).toBe(FIRST);
    expect(applied.applied).toContain(SWITCH);
    expect(await digests()).toEqual(before);
    for (const table of ['pings', 'ping_bids']) {
      expect(
        (await one<{ kind: string }>(`SELECT relkind::text AS kind FROM pg_class WHERE oid = $1::regclass`, [table]))
          .kind,
      ).toBe('p');
      expect(await partitionOf(table, 'true')).toBe(`${table}_before_partitioning`);
    }

    // The partitions of the days after the old table's range, and a ping recorded there by the PingLog's
    // statements — twice, as a retried write would: one row, its figures once.
    const bound = (
      await one<{ hi: Date }>(`SELECT hi FROM time_partition_bounds('pings_before_partitioning'::regclass)`)
    ).hi;
    const at = new Date(bound.getTime() + 10 * DAY_MS + 3_600_000);
    for (const table of ['pings', 'ping_bids'])
      expect(await runStatement(m.pool, CREATE_TIME_PARTITIONS, { table, unit: 'day', ahead: 2, at })).toHaveLength(3);
    const pingId = randomUUID();
    for (let i = 0; i < 2; i++) {
      await runStatement(m.pool, RECORD_PINGS, {
        ids: [pingId],
        sourceIds: [sources[0]!],
        routeIds: [null],
        statuses: ['bid'],
        bestBids: ['12.0000'],
        sourceBids: ['4.2500'],
        geos: ['CA'],
        channels: ['search'],
        at: [at],
      });
      await runStatement(m.pool, RECORD_PING_BIDS, {
        pingIds: [pingId],
        partnerIds: [partners[0]!],
        outcomes: ['bid'],
        bids: ['12.0000'],
        ranks: [1],
        durations: [35],
        at: [at],
        sourceIds: [sources[0]!],
        geos: ['CA'],
        channels: ['search'],
      });
    }
    const day = new Date(at.getTime() - (at.getTime() % DAY_MS)).toISOString().slice(0, 10).replaceAll('-', '');
    expect(await partitionOf('pings', `id = '${pingId}'`)).toBe(`pings_p${day}`);
    expect(await partitionOf('ping_bids', `ping_id = '${pingId}'`)).toBe(`ping_bids_p${day}`);
    expect(
      await one(
        `SELECT sum(pings)::int AS pings, sum(bids)::int AS bids, sum(wins)::int AS wins, sum(bid_total)::text AS total
         FROM report_deltas WHERE geo = 'CA'`,
      ),
    ).toEqual({ pings: 2, bids: 2, wins: 1, total: '16.2500' });

    // The stats' statements (PARTNER_PINGS_SINCE, SOURCE_PINGS_SINCE) over the last day: that day's partitions
    // only (and the DEFAULT one, which takes what no day does), never the old table or the days before.
    const since = new Date(at.getTime() - 2 * 3_600_000);
    const days = [0, 1, 2].map((n) =>
      new Date(at.getTime() + n * DAY_MS).toISOString().slice(0, 10).replaceAll('-', ''),
    );
    for (const [table, stmt] of [
      ['ping_bids', PARTNER_PINGS_SINCE],
      ['pings', SOURCE_PINGS_SINCE],
    ] as const)
      expect(await scanned(inlineSql(stmt, orderedValues(stmt, { since })), [])).toEqual([
        `${table}_default`,
        ...days.map((d) => `${table}_p${d}`),
      ]);
    // A window starting two days later: not even the first of those days.
    expect(
      await scanned(`SELECT count(*) FROM pings WHERE created_at >= $1`, [new Date(at.getTime() + 2 * DAY_MS)]),
    ).toEqual(['pings_default', `pings_p${days[2]!}`]);

    // The housekeeping: the old table's partition stays while part of it is within the retention, and is dropped
    // with all its rows once the whole of it is past.
    for (const table of ['pings', 'ping_bids']) {
      expect(
        await runStatement(m.pool, DROP_TIME_PARTITIONS, { table, before: new Date(bound.getTime() - 1) }),
      ).toEqual([]);
      expect(await runStatement(m.pool, DROP_TIME_PARTITIONS, { table, before: bound })).toEqual([
        { partition: `${table}_before_partitioning`, rows: table === 'pings' ? PINGS : PINGS * 3 },
      ]);
    }
    expect(await digests()).toMatchObject({ pings: { rows: 1 }, bids: { rows: 1 } });
  }, 120_000);
});
