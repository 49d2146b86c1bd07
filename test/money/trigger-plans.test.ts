import { useDatabaseClient } from '../support/database';

/**
 * The ledger's rollup trigger and the reports' fold run statements without parameters (a transition
 * table's join, the fold's delete), which PL/pgSQL plans once per connection and keeps until the tables'
 * statistics change. A connection that ran them first while the tables were small kept a plan that
 * scans every lead and delivery (or every pending delta) on each later call: found by
 * pg_stat_statements in the feedback benchmark, 1.6 ms per ledger insert at 10,000 leads and growing
 * with the tables (docs/performance.md, "Where PostgreSQL's time goes"). The functions now plan
 * without sequential scans or hash and merge joins, so the plan made on empty tables is the index
 * look-up that stays right at any size. auto_explain (PostgreSQL's contrib, loaded in this session
 * only) shows the plan each nested statement ran with.
 */
describe('the plans the money triggers keep for a connection', () => {
  const db = useDatabaseClient();
  const plans: string[] = [];
  const SOURCE = '00000000-0000-4000-8000-000000000001';
  const PARTNER = '00000000-0000-4000-9000-000000000001';

  const collect = (msg: { message?: string }) => {
    if (msg.message?.startsWith('duration:')) plans.push(msg.message);
  };

  beforeAll(async () => {
    const client = db();
    client.on('notice', collect);
    // Nothing may refresh the statistics (and so the cached plans) behind the test's back.
    for (const table of ['leads', 'deliveries', 'report_deltas']) {
      await client.query(`ALTER TABLE ${table} SET (autovacuum_enabled = false)`);
    }
    await client.query(
      `INSERT INTO sources (id, name, api_key_hash, api_key_prefix, updated_at)
       VALUES ($1, 'trigger plans', repeat('a', 64), 'lr_test', now())`,
      [SOURCE],
    );
    await client.query(
      `INSERT INTO partners (id, name, url, updated_at) VALUES ($1, 'trigger plans', 'http://127.0.0.1:9/', now())`,
      [PARTNER],
    );
    await client.query(`LOAD 'auto_explain'`);
    await client.query(`SET auto_explain.log_min_duration = 0`);
    await client.query(`SET auto_explain.log_nested_statements = on`);
    await client.query(`SET auto_explain.log_level = notice`);
    await client.query(`SET client_min_messages = notice`);
  });

  const addLeads = (n: number) =>
    db().query(
      `WITH l AS (
         INSERT INTO leads (id, source_id, updated_at) SELECT gen_random_uuid(), $1, now() FROM generate_series(1, $3::int)
         RETURNING id)
       INSERT INTO deliveries (id, lead_id, partner_id, updated_at) SELECT gen_random_uuid(), id, $2, now() FROM l`,
      [SOURCE, PARTNER, n],
    );

  const sale = async () => {
    plans.length = 0;
    await db().query(
      // A sale as the worker writes it: the partner's line and the source's, in one statement.
      `WITH d AS (
         SELECT d.id, d.lead_id, d.partner_id, gen_random_uuid() AS event_id FROM deliveries d
         WHERE NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.delivery_id = d.id) LIMIT 1)
       INSERT INTO ledger_entries (lead_id, party, party_id, kind, amount, delivery_id, event_id)
       SELECT d.lead_id, 'partner'::"LedgerParty", d.partner_id, 'sale'::"LedgerKind", 12.5, d.id, d.event_id FROM d
       UNION ALL
       SELECT d.lead_id, 'source'::"LedgerParty", $1::uuid, 'sale'::"LedgerKind", 8, d.id, d.event_id FROM d`,
      [SOURCE],
    );
    const rollup = plans.filter((p) => p.includes('FROM inserted AS e'));
    expect(rollup).toHaveLength(1);
    return rollup[0]!;
  };

  const scans = (plan: string) => [...plan.matchAll(/Seq Scan on (\w+)/g)].map((m) => m[1]);

  it('the ledger’s rollup trigger looks up a lead and its delivery by key, planned on empty tables or not', async () => {
    await addLeads(1);
    // The connection's first sale: the plan is made now, with the lead tables all but empty.
    expect(scans(await sale())).toEqual([]);
    await addLeads(20_000);
    const later = await sale();
    expect(scans(later)).toEqual([]);
    expect(later).toMatch(/Index Scan using leads_pkey on leads/);
    expect(later).toMatch(/Index Scan using deliveries_pkey on deliveries/);
  }, 60_000);

  it('the fold takes the oldest deltas by key, planned on an empty queue or not', async () => {
    const fold = async () => {
      plans.length = 0;
      await db().query('SELECT report_fold(100)');
      const moved = plans.filter((p) => p.includes('DELETE FROM report_deltas'));
      expect(moved).toHaveLength(1);
      return moved[0]!;
    };
    await db().query('SELECT report_fold(100000)'); // what the sales above left
    expect(scans(await fold())).toEqual([]);
    await db().query(
      `INSERT INTO report_deltas (at, source_id, leads, accepted)
       SELECT '2026-06-01'::timestamptz + g * interval '1 minute', $1, 1, 1 FROM generate_series(1, 20000) AS g`,
      [SOURCE],
    );
    expect(scans(await fold())).toEqual([]);
    const { rows } = await db().query<{ n: number }>('SELECT count(*)::int AS n FROM report_deltas');
    expect(rows[0]!.n).toBe(20_000 - 100);
  }, 60_000);
});
