import { inlineSql, orderedValues, REPORT_TABLE_KEYS, reportStatement, type ReportTable } from '@leadrouter/db';
import type { ReportKey } from '@leadrouter/core';
import { useDatabaseClient } from '../support/database';

/**
 * A report reads the rollups and the lead figures on their way (report_deltas), never the lead tables
 * (ADR 0028), and a short range of a long history only its own rows: through the rollup's key (day or hour
 * first) for an operator, through (source_id, day|hour) for a source's own report.
 */
describe('the report statements', () => {
  const db = useDatabaseClient();
  const SOURCES = 20;
  const PARTNERS = 5;

  beforeAll(async () => {
    const client = db();
    // Two years of rollups; leads and deliveries too, which no plan may touch.
    await client.query(
      `INSERT INTO report_daily (day, source_id, partner_id, geo, channel, leads, accepted, sold, revenue, cost)
       SELECT d::date, ('00000000-0000-4000-8000-' || lpad(s::text, 12, '0'))::uuid,
              ('00000000-0000-4000-9000-' || lpad(p::text, 12, '0'))::uuid, g, '', 3, 3, 2, 25.5, 10
       FROM generate_series('2025-01-01'::date, '2026-12-31'::date, interval '1 day') AS d,
            generate_series(1, ${SOURCES}) AS s, generate_series(0, ${PARTNERS}) AS p, unnest(ARRAY['US', 'CA']) AS g`,
    );
    await client.query(
      `INSERT INTO report_hourly (hour, source_id, partner_id, leads, accepted, sold, revenue, cost)
       SELECT h, ('00000000-0000-4000-8000-' || lpad(s::text, 12, '0'))::uuid,
              ('00000000-0000-4000-9000-' || lpad(p::text, 12, '0'))::uuid, 3, 3, 2, 25.5, 10
       FROM generate_series('2026-01-01'::timestamptz, '2026-12-31'::timestamptz, interval '1 hour') AS h,
            generate_series(1, ${SOURCES}) AS s, generate_series(0, 1) AS p`,
    );
    await client.query(
      `INSERT INTO report_deltas (at, source_id, leads, accepted)
       SELECT '2026-06-01'::timestamptz + g * interval '1 minute', '00000000-0000-4000-8000-000000000001', 1, 1
       FROM generate_series(1, 2000) AS g`,
    );
    await client.query('ANALYZE report_daily; ANALYZE report_hourly; ANALYZE report_deltas');
  }, 120_000);

  const plan = async (table: ReportTable, keys: ReportKey[], since: string, until: string, source: string | null) => {
    const stmt = reportStatement(table, keys);
    // The hourly rollup's days in a zone off UTC (a tz report); the daily rollup's are UTC days.
    const tz = table === 'hourly' ? 'America/New_York' : 'UTC';
    const values = { since: new Date(since), until: new Date(until), sourceId: source, limit: 20_001, tz };
    const rows = await db().query<{ 'QUERY PLAN': string }>(`EXPLAIN ${inlineSql(stmt, orderedValues(stmt, values))}`);
    return rows.rows.map((r) => r['QUERY PLAN']).join('\n');
  };

  it('read the rollup and the deltas, never the lead tables, for every grouping', async () => {
    for (const table of ['daily', 'hourly'] as const) {
      const keys = REPORT_TABLE_KEYS[table];
      const groupings: ReportKey[][] = [[], ...keys.map((k) => [k]), ...keys.slice(1).map((k) => [keys[0]!, k])];
      for (const grouping of groupings) {
        const text = await plan(table, grouping, '2026-06-01', '2026-07-01', null);
        const read = [
          ...text.matchAll(/(?:Seq Scan|Index Scan using \S+|Index Only Scan using \S+|Bitmap Heap Scan) on (\w+)/g),
        ].map((m) => m[1]);
        const what = `${table} by ${grouping.join(',') || 'nothing'}`;
        expect({ what, rollup: read.includes(`report_${table}`), deltas: read.includes('report_deltas') }).toEqual({
          what,
          rollup: true,
          deltas: true,
        });
        expect({
          what,
          others: read.filter(
            (t) => !['report_daily', 'report_hourly', 'report_deltas', 'sources', 'partners'].includes(t!),
          ),
        }).toEqual({ what, others: [] });
      }
    }
  });

  it('a month of two years’ rollups reads that month: by day first, by source and day for a source', async () => {
    const month = ['2026-06-01', '2026-07-01'] as const;
    const operator = await plan('daily', ['day', 'partner'], ...month, null);
    expect(operator).not.toMatch(/Seq Scan on report_daily/);
    expect(operator).toMatch(
      /Index (Only )?Scan using report_daily_pkey on report_daily|Bitmap Index Scan on report_daily_pkey/,
    );
    const source = await plan('daily', ['day'], ...month, '00000000-0000-4000-8000-000000000003');
    expect(source).not.toMatch(/Seq Scan on report_daily/);
    expect(source).toMatch(/Index Scan using \S+ on report_daily|Bitmap Index Scan on report_daily/);
    const hourly = await plan('hourly', ['hour'], '2026-06-01T00:00:00Z', '2026-06-02T00:00:00Z', null);
    expect(hourly).not.toMatch(/Seq Scan on report_hourly/);
    const ownHours = await plan(
      'hourly',
      ['hour'],
      '2026-06-01T00:00:00Z',
      '2026-06-02T00:00:00Z',
      '00000000-0000-4000-8000-000000000003',
    );
    expect(ownHours).not.toMatch(/Seq Scan on report_hourly/);
  });
});
