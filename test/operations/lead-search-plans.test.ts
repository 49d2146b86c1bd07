import { inlineSql, LEAD_SEARCH, LEAD_SEARCH_BY_PARTNER, orderedValues, type StatementParams } from '@leadrouter/db';
import { useDatabaseClient } from '../support/database';

/**
 * The lead search is two fixed statements whose filters not asked for are NULL parameters (ADR 0020,
 * addendum): planned for their values (inline), the planner folds `(NULL IS NULL OR …)` away, so each filter
 * still reads its index, as when the WHERE was built of the filters asked for only — and a partner's filter
 * stays a join (a sub-select under an OR would not be one).
 */
describe('the lead search’s plans', () => {
  const db = useDatabaseClient();
  const SOURCE = '00000000-0000-4000-8000-000000000001';
  /** A source of 20 leads among 20,000. */
  const RARE = '00000000-0000-4000-8000-000000000002';
  const PARTNER = '00000000-0000-4000-8000-0000000000a1';

  /** The filters asked for; the others NULL, as packages/lifecycle's `leadSearchValues` passes them. */
  type Search = Partial<StatementParams<typeof LEAD_SEARCH>> & { partnerId?: string };
  const plan = async ({ partnerId, ...filters }: Search) => {
    const values: StatementParams<typeof LEAD_SEARCH> = {
      ...{ statuses: null, sourceId: null, phone: null, email: null, since: null, until: null },
      ...{ cursorAt: null, cursorId: null, limit: 51 },
      ...filters,
    };
    const text = partnerId
      ? inlineSql(LEAD_SEARCH_BY_PARTNER, orderedValues(LEAD_SEARCH_BY_PARTNER, { ...values, partnerId }))
      : inlineSql(LEAD_SEARCH, orderedValues(LEAD_SEARCH, values));
    const rows = (await db().query<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`)).rows;
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  };

  beforeAll(async () => {
    await db().query(
      `INSERT INTO sources (id, name, api_key_hash, api_key_prefix, updated_at)
         VALUES ('${SOURCE}', 's', repeat('a', 64), 'lr_', now()), ('${RARE}', 'r', repeat('b', 64), 'lr_', now());
       INSERT INTO partners (id, name, url, updated_at)
         SELECT ('00000000-0000-4000-8000-0000000000a' || g)::uuid, 'p' || g, 'http://p.test', now()
         FROM generate_series(1, 9) AS g;
       INSERT INTO leads (id, source_id, status, name, phone, email, created_at, updated_at)
         SELECT uuidv7(), CASE WHEN g % 1000 = 7 THEN '${RARE}'::uuid ELSE '${SOURCE}'::uuid END,
                (CASE WHEN g % 2000 = 0 THEN 'queued' WHEN g % 1000 = 1 THEN 'dead_lettered'
                      WHEN g % 3 = 0 THEN 'unsold' ELSE 'delivered' END)::"LeadStatus",
                'n', '+1415' || lpad(g::text, 7, '0'), 'lead' || g || '@example.com',
                now() - make_interval(mins => g), now()
         FROM generate_series(1, 20000) AS g;
       INSERT INTO deliveries (id, lead_id, partner_id, status, created_at, updated_at)
         SELECT uuidv7(), l.id, ('00000000-0000-4000-8000-0000000000a' || (1 + (row_number() OVER ()) % 9))::uuid,
                'accepted', l.created_at, now()
         FROM leads l;
       ANALYZE leads; ANALYZE deliveries`,
    );
  });

  const day = () => new Date(Date.now() - 24 * 3600_000);
  const cursor = () => ({ cursorAt: new Date(Date.now() - 3 * 24 * 3600_000), cursorId: PARTNER });
  const cases: [string, () => Search, RegExp[]][] = [
    ['no filter', () => ({}), [/Index Scan Backward using leads_created_at_idx on leads/]],
    ['a settled status', () => ({ statuses: ['unsold'] }), [/using leads_created_at_idx on leads/]],
    ['dead_lettered', () => ({ statuses: ['dead_lettered'] }), [/using leads_dead_lettered_created_at_idx on leads/]],
    ['queued', () => ({ statuses: ['queued'] }), [/using leads_queued_created_at_idx on leads/]],
    ['a source', () => ({ sourceId: RARE }), [/leads_source_id_created_at_idx/]],
    ['a phone', () => ({ phone: '+14150001234' }), [/using leads_phone_created_at_idx on leads/]],
    ['an email', () => ({ email: 'lead1234@example.com' }), [/using leads_email_created_at_idx on leads/]],
    [
      'since and until',
      () => ({ since: new Date(Date.now() - 48 * 3600_000), until: day() }),
      [/Index Cond: \(\(created_at >= .*\) AND \(created_at < .*\)\)/],
    ],
    ['a cursor', () => cursor(), [/Index Cond: \(created_at <= /]],
    [
      'a partner',
      () => ({ partnerId: PARTNER }),
      [/using leads_created_at_idx on leads/, /using deliveries_lead_id_partner_id_key on deliveries/],
    ],
    [
      'a partner since',
      () => ({ partnerId: PARTNER, since: day() }),
      [/deliveries_partner_id_created_at_idx/, /Index Cond: \(created_at >= /],
    ],
  ];

  it.each(cases)('%s: reads its index, with no NULL filter left and no sequential scan', async (_what, q, expected) => {
    const text = await plan(q());
    for (const re of expected) expect(text).toMatch(re);
    expect(text).not.toMatch(/Seq Scan/);
    expect(text).not.toMatch(/IS NULL/);
    // The partner's filter is a join, never a sub-plan run as a filter.
    expect(text).not.toMatch(/SubPlan/);
  });
});
