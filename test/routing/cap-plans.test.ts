import {
  CAP_ADD,
  CAP_USAGE,
  executeSql,
  LAST_SALE_PRICES,
  orderedValues,
  prepareSql,
  type Statement,
} from '@leadrouter/db';
import { useDatabaseClient } from '../support/database';

/**
 * The cap counters' statements run on every offer to a capped partner, as prepared statements whose generic
 * plan is settled on after their first executions — here on empty tables without statistics, as in a new
 * deployment (ADR 0010). Planned so, each must still read by key: the counters by their primary key, a
 * missing counter's seed and the last sale's price through deliveries(partner_id, created_at) over the period
 * only, never a partner's whole history through deliveries(partner_id, status).
 */
describe('the cap counters’ statements', () => {
  const db = useDatabaseClient();
  const source = '00000000-0000-4000-8000-000000000001';
  const capped = '00000000-0000-4000-8000-000000000002';
  const other = '00000000-0000-4000-8000-000000000003';
  const dayStart = new Date('2026-02-10T00:00:00Z');
  const stored = new Date('2026-02-01T00:00:00Z'); // the month row, which exists

  /** The statement's plan, as it runs after eight executions planned on empty tables. */
  async function plan<P>(stmt: Statement<P, unknown>, values: P, settle: () => Promise<void>): Promise<string> {
    const client = db();
    await client.query(prepareSql(stmt));
    const execute = executeSql(stmt, orderedValues(stmt, values));
    // More than the five custom plans after which PostgreSQL may settle on a generic one.
    for (let i = 0; i < 8; i++) await client.query(`BEGIN; ${execute}; ROLLBACK`);
    await settle();
    const rows = (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${execute}`)).rows;
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  }

  let filled = false;
  /** Years of deliveries of both partners, most of them settled; a few pending and accepted in the day. */
  async function fill() {
    if (filled) return;
    filled = true;
    await db().query(
      `INSERT INTO leads (id, source_id, name, phone, updated_at)
         SELECT gen_random_uuid(), '${source}', 'n', '+14155550100', now() FROM generate_series(1, 6000);
       INSERT INTO deliveries (id, lead_id, partner_id, status, price, cap_amount, created_at, updated_at)
         SELECT gen_random_uuid(), id,
                CASE WHEN n % 2 = 0 THEN '${capped}'::uuid ELSE '${other}'::uuid END,
                (CASE WHEN n % 3 = 0 THEN 'accepted' ELSE 'rejected' END)::"DeliveryStatus",
                CASE WHEN n % 3 = 0 THEN 7 END, 7,
                '2024-01-01'::timestamptz + n * interval '2 hours', now()
         FROM (SELECT id, row_number() OVER () AS n FROM leads) l;
       UPDATE deliveries SET created_at = '${dayStart.toISOString()}'::timestamptz + interval '1 minute',
                             status = 'pending'
         WHERE id IN (SELECT id FROM deliveries WHERE partner_id = '${capped}' ORDER BY created_at DESC LIMIT 3);
       INSERT INTO cap_counters (partner_id, period, period_start, count, amount)
         SELECT '${capped}'::uuid, 'month'::"CapPeriod", '${stored.toISOString()}'::timestamptz, 3, 21
         UNION ALL SELECT '${other}', 'day', d, 1, 7
         FROM generate_series('2024-01-01'::timestamptz, '2026-02-09', interval '1 day') d`,
    );
  }

  beforeAll(async () => {
    await db().query(
      `INSERT INTO sources (id, name, api_key_hash, api_key_prefix, updated_at)
         VALUES ('${source}', 's', repeat('a', 64), 'lr_', now());
       INSERT INTO partners (id, name, url, updated_at)
         VALUES ('${capped}', 'p', 'https://partner.example', now()), ('${other}', 'o', 'https://o.example', now())`,
    );
  });

  it('reads a counter by its key, and seeds a missing one from the period’s deliveries only', async () => {
    const shown = await plan(
      CAP_USAGE,
      { partnerIds: [capped, capped], periods: ['day', 'month'], starts: [dayStart, stored] },
      fill,
    );
    expect(shown).toMatch(/Index Scan using cap_counters_pkey on cap_counters/);
    expect(shown).toMatch(/Index Scan using deliveries_partner_id_created_at_idx on deliveries/);
    expect(shown).not.toMatch(/deliveries_partner_id_status_idx|Seq Scan on deliveries/);
    // The seed reads the day's few deliveries, and nothing for the month, whose counter exists.
    expect(shown).not.toMatch(/Rows Removed by Filter: \d{2,}/);
    expect(shown).toMatch(/One-Time Filter/);
    const { rows } = await db().query<{ count: number; amount: string; stored: boolean }>(
      executeSql(
        CAP_USAGE,
        orderedValues(CAP_USAGE, {
          partnerIds: [capped, capped],
          periods: ['day', 'month'],
          starts: [dayStart, stored],
        }),
      ),
    );
    expect(rows).toEqual([
      expect.objectContaining({ count: 3, amount: '21.0000', stored: false }),
      expect.objectContaining({ count: 3, amount: '21.0000', stored: true }),
    ]);
  });

  it('reads the last sale’s price from the partner’s latest deliveries', async () => {
    const shown = await plan(LAST_SALE_PRICES, { partnerIds: [capped] }, fill);
    expect(shown).toMatch(/Index Scan Backward using deliveries_partner_id_created_at_idx on deliveries/);
    expect(shown).not.toMatch(/Rows Removed by Filter: \d{2,}/);
  });

  it('adds to counters by their key', async () => {
    const values = {
      partnerIds: [capped, capped],
      periods: ['day' as const, 'month' as const],
      starts: [dayStart, stored],
      counts: [1, 1],
      amounts: ['7', '7'],
      creates: [true, false],
    };
    const shown = await plan(CAP_ADD, values, fill);
    expect(shown).toMatch(/Conflict Arbiter Indexes: cap_counters_pkey/);
    expect(shown).toMatch(
      /Index Only Scan using cap_counters_pkey on cap_counters e|Index Scan using cap_counters_pkey on cap_counters e/,
    );
    expect(shown).not.toMatch(/Seq Scan on cap_counters/);
  });
});
