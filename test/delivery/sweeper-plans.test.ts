import { inlineSql, orderedValues, QUEUED_LEADS, STUCK_LEADS } from '@leadrouter/db';
import { useDatabaseClient } from '../support/database';

/**
 * The sweeper's look-ups read the partial indexes of the working states (ADR 0035): nothing indexes
 * `status` or `updated_at` over every row (so status updates leave those indexes alone), and years of
 * settled leads must not be read to find the few queued or routing ones.
 */
describe('the sweeper’s look-ups', () => {
  const db = useDatabaseClient();

  it('read the working states’ partial indexes, not the settled leads', async () => {
    const client = db();
    const source = '00000000-0000-4000-8000-000000000001';
    await client.query(
      `INSERT INTO sources (id, name, api_key_hash, api_key_prefix, updated_at)
         VALUES ('${source}', 's', repeat('a', 64), 'lr_', now());
       INSERT INTO leads (id, source_id, status, name, phone, created_at, updated_at)
         SELECT uuidv7(), '${source}', s::"LeadStatus", 'n', '+14155550100',
                now() - make_interval(mins => g), now() - make_interval(mins => g)
         FROM generate_series(1, 20000) AS g,
              LATERAL (SELECT CASE WHEN g % 2000 = 0 THEN 'queued' WHEN g % 2000 = 1 THEN 'routing'
                                   ELSE 'delivered' END AS s) AS st;
       ANALYZE leads; ANALYZE deliveries`,
    );
    const before = new Date();
    for (const [what, text, index] of [
      [
        'queued',
        inlineSql(QUEUED_LEADS, orderedValues(QUEUED_LEADS, { before, limit: 100 })),
        'leads_queued_created_at_idx',
      ],
      ['routing', inlineSql(STUCK_LEADS, orderedValues(STUCK_LEADS, { before, limit: 100 })), 'leads_routing_id_idx'],
    ] as const) {
      const plan = (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE) ${text}`)).rows
        .map((r) => r['QUERY PLAN'])
        .join('\n');
      expect({ what, index: plan.includes(index), seqScan: /Seq Scan on leads/.test(plan) }).toEqual({
        what,
        index: true,
        seqScan: false,
      });
      expect({ what, filtered: /Rows Removed by Filter: \d{3,}/.test(plan) }).toEqual({ what, filtered: false });
    }
    const found = await client.query(inlineSql(QUEUED_LEADS, orderedValues(QUEUED_LEADS, { before, limit: 100 })));
    expect(found.rowCount).toBe(10);
  });
});
