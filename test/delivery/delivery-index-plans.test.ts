import {
  COUNT_DEAD_LETTERS,
  DEAD_LETTER_COUNT,
  DEAD_LETTER_PAGE,
  inlineSql,
  orderedValues,
  OVERDUE_DELIVERIES,
  UNPARK_RETRIES,
  UNPARKED_DELIVERIES,
  type StatementParams,
} from '@leadrouter/db';
import { useDatabaseClient } from '../support/database';

/**
 * The deliveries' look-ups by state read partial indexes of the pending and the dead-lettered deliveries
 * (ADR 0035, Decision 6): nothing indexes `status` over every row, and the accepted and rejected deliveries —
 * nearly all of them, in time — are in none of those indexes, so years of sales are never read to find the few
 * deliveries still at work or dead-lettered.
 */
describe('the deliveries’ look-ups by state', () => {
  const db = useDatabaseClient();
  const source = '00000000-0000-4000-8000-000000000001';
  const partner = '00000000-0000-4000-8000-000000000002';

  it('read the pending and dead-lettered deliveries’ partial indexes, not the settled ones', async () => {
    const client = db();
    // 20,000 deliveries, one lead each: per thousand, one pending and due, one parked (pending, no due time),
    // one dead-lettered, one superseded; the rest accepted.
    await client.query(
      `INSERT INTO sources (id, name, api_key_hash, api_key_prefix, updated_at)
         VALUES ('${source}', 's', repeat('a', 64), 'lr_', now());
       INSERT INTO partners (id, name, url, updated_at) VALUES ('${partner}', 'p', 'https://partner.example', now());
       INSERT INTO leads (id, source_id, status, name, phone, created_at, updated_at)
         SELECT uuidv7(), '${source}', 'delivered', 'n', '+14155550100', now(), now() FROM generate_series(1, 20000);
       INSERT INTO deliveries (id, lead_id, partner_id, status, next_attempt_at, dead_lettered_at, created_at, updated_at)
         SELECT uuidv7(), l.id, '${partner}', st.s::"DeliveryStatus",
                CASE WHEN st.s = 'pending' AND g % 1000 = 0 THEN now() - interval '1 hour' END,
                CASE WHEN st.s IN ('dead_lettered', 'superseded') THEN now() - make_interval(mins => g::int) END,
                now() - interval '2 hours', now() - interval '2 hours'
         FROM (SELECT id, row_number() OVER (ORDER BY id) AS g FROM leads) AS l,
              LATERAL (SELECT CASE g % 1000 WHEN 0 THEN 'pending' WHEN 1 THEN 'pending' WHEN 2 THEN 'dead_lettered'
                                            WHEN 3 THEN 'superseded' ELSE 'accepted' END AS s) AS st;
       ANALYZE leads; ANALYZE deliveries`,
    );
    const before = new Date();
    const scope = { dead: true, superseded: false, partnerId: null, until: before };
    const page = (given: Partial<StatementParams<typeof DEAD_LETTER_PAGE>>) =>
      inlineSql(
        DEAD_LETTER_PAGE,
        orderedValues(DEAD_LETTER_PAGE, { ...scope, until: null, afterAt: null, afterId: null, limit: 51, ...given }),
      );
    const lookUps = [
      ['overdue', inlineSql(OVERDUE_DELIVERIES, orderedValues(OVERDUE_DELIVERIES, { before, limit: 100 })), 20],
      ['parked', inlineSql(UNPARKED_DELIVERIES, orderedValues(UNPARKED_DELIVERIES, { before, limit: 100 })), 20],
      [
        'parked of a resumed partner',
        inlineSql(UNPARK_RETRIES, orderedValues(UNPARK_RETRIES, { partnerId: partner })),
        20,
      ],
      ['dead letters counted', inlineSql(COUNT_DEAD_LETTERS, []), 1],
      // The statements the dead letters' list and the bulk actions send (packages/lifecycle/src/dead-letters.ts),
      // with their values as they run them: with and without a partner, after a cursor, both statuses.
      ['dead letters listed', page({}), 20],
      ['a partner’s dead letters listed', page({ partnerId: partner }), 20],
      // Dead-lettered 2, 1002, … minutes ago: ten of them in the last 10,000 minutes.
      [
        'dead letters listed after a cursor',
        page({ afterAt: new Date(Date.now() - 10_000.5 * 60_000), afterId: partner }),
        10,
      ],
      ['dead and superseded listed', page({ superseded: true }), 40],
      [
        'dead letters of a bulk retry counted',
        inlineSql(DEAD_LETTER_COUNT, orderedValues(DEAD_LETTER_COUNT, scope)),
        1,
      ],
    ] as const;
    for (const [what, text, rows] of lookUps) {
      // The resumed partner's look-up is an update: each run rolled back.
      const rolledBack = async <R extends object>(sql: string) => {
        await client.query('BEGIN');
        const result = await client.query<R>(sql);
        await client.query('ROLLBACK');
        return result;
      };
      const plan = (await rolledBack<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE) ${text}`)).rows
        .map((r) => r['QUERY PLAN'])
        .join('\n');
      const found = (await rolledBack(text)).rowCount;
      expect({
        what,
        partialIndex: /deliveries_(pending_next_attempt_at|pending_partner_id|dead_lettered|superseded)_idx/.test(plan),
        seqScan: /Seq Scan on deliveries/.test(plan),
        filtered: /Rows Removed by Filter: \d{3,}/.test(plan),
        found,
      }).toEqual({ what, partialIndex: true, seqScan: false, filtered: false, found: rows });
    }
  });

  it('leave the settled deliveries out of the partial indexes', async () => {
    const client = db();
    const sizes = await client.query<{ name: string; entries: string }>(
      `SELECT c.relname AS name, c.reltuples::bigint::text AS entries FROM pg_class c
       WHERE c.relname IN ('deliveries_pending_next_attempt_at_idx', 'deliveries_pending_partner_id_idx',
                           'deliveries_dead_lettered_idx', 'deliveries_superseded_idx')
       ORDER BY c.relname`,
    );
    expect(sizes.rows).toEqual([
      { name: 'deliveries_dead_lettered_idx', entries: '20' },
      { name: 'deliveries_pending_next_attempt_at_idx', entries: '40' },
      { name: 'deliveries_pending_partner_id_idx', entries: '40' },
      { name: 'deliveries_superseded_idx', entries: '20' },
    ]);
    expect(
      await client.query(`SELECT to_regclass('deliveries_status_next_attempt_at_idx') AS a,
      to_regclass('deliveries_status_dead_lettered_at_idx') AS b, to_regclass('deliveries_partner_id_status_idx') AS c`),
    ).toMatchObject({
      rows: [{ a: null, b: null, c: null }],
    });
  });
});
