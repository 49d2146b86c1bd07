import { rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import {
  LEAD_CHILD_TABLES,
  LEAD_PARTITIONS,
  backfillLeadCreatedAt,
  migrationsBefore,
} from '../../../test/support/migrations.js';
import { waitFor } from '../../../test/support/wait.js';
import { applyMigrations } from './migrate.js';
import { runStatement } from './statements.js';
import { CREATE_TIME_PARTITIONS } from './tables/partitions.js';

const VALIDATE = '20261203010500_lead_partitions_validate';
/** The migrations that switch tables (catalog changes only), each run alone to measure what it reads. */
const SWITCHES = [
  ['20261203010600_lead_partitions_leads', '20261203010700_lead_partitions_leads_references_validate'],
  ['20261203010800_lead_partitions_deliveries', '20261203010900_lead_partitions_deliveries_references_validate'],
  ['20261203011000_lead_partitions_children', null],
] as const;
const TEST_CONNECTIONS = 'lead-partitions-migration-test';
/** Leads sold to no one: no ledger entry references them. */
const UNSOLD = 100;
const LEADS = 3_000;
const TABLES = ['leads', ...LEAD_CHILD_TABLES] as const;
const DAY_MS = 24 * 60 * 60_000;

/**
 * The conversion of the leads' tables into tables partitioned by the lead's creation month (ADR 0035 Decision 5,
 * step 3), on a database migrated up to just before it and seeded with LEADS leads of the last 60 days and their
 * whole history, written as the version before step 2 wrote them (no lead_created_at): the migrations stop with a
 * clear message until the housekeeping's backfill has filled every row; then every row is kept (a digest of each
 * table before and after), each switch reads none of them (the old tables' scan counters, read once the migrating
 * connection has ended), and the keys, the foreign keys and their cascades, the ledger's refusal of UPDATE and
 * DELETE (on the partitioned table and on a partition named alone), the reports' triggers and the sequences work
 * in the new months' partitions.
 */
describe(`migrations ${LEAD_PARTITIONS} to ${SWITCHES[2][0]}`, () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  const dirs: string[] = [];

  const migrateBefore = async (name: string | null) => {
    const dir = name === null ? undefined : migrationsBefore(name);
    if (dir) dirs.push(dir);
    return applyMigrations({ databaseUrl: database.url, migrationsDir: dir, log: () => undefined });
  };

  beforeAll(async () => {
    database = await createTestDatabase({ empty: true });
    await migrateBefore(LEAD_PARTITIONS);
    pool = new pg.Pool({ connectionString: database.url, max: 1, application_name: TEST_CONNECTIONS });
  }, 60_000);
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const one = async <R extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<R> =>
    (await pool.query<R>(sql, values)).rows[0]!;
  /** Every row of each table, whole, in key order, as a digest. */
  const digests = async () => {
    const out: Record<string, { rows: number; digest: string }> = {};
    for (const table of TABLES)
      out[table] = await one(
        `SELECT count(*)::int AS rows, md5(string_agg(t::text, ',' ORDER BY t.id)) AS digest FROM ${table} t`,
      );
    return out;
  };
  /**
   * Rows read by sequential scans of the old tables (a validation's or an ATTACH's check is one), once every other
   * connection has ended (a backend writes its statistics before it leaves pg_stat_activity).
   */
  const reads = async () => {
    await waitFor(
      async () =>
        (
          await one<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name <> $1`,
            [TEST_CONNECTIONS],
          )
        ).n === 0,
      { what: 'the other connections to end' },
    );
    await pool.query('SELECT pg_stat_force_next_flush()');
    await pool.query('SELECT pg_stat_clear_snapshot()');
    return one<{ seq: number }>(
      `SELECT sum(seq_tup_read)::int AS seq FROM pg_stat_user_tables
       WHERE relid IN (SELECT oid FROM pg_class WHERE relname = ANY ($1::text[]) OR relname = ANY ($2::text[]))`,
      [TABLES, TABLES.map((t) => `${t}_before_partitioning`)],
    );
  };
  const errorOf = (promise: Promise<unknown>) =>
    promise.then(
      () => null,
      (error: { code?: string; message?: string }) => ({ code: error.code, message: error.message }),
    );

  it('keep every row, read none to switch, and keep the keys, references, the ledger’s rules and the reports', async () => {
    const [source, partnerA, partnerB] = [randomUUID(), randomUUID(), randomUUID()];
    await pool.query(
      `INSERT INTO sources (id, name, api_key_hash, api_key_prefix, updated_at) VALUES ($1, 's', repeat('a', 64), 'lr_', now());
       INSERT INTO partners (id, name, url, updated_at)
         VALUES ($2, 'a', 'https://a.example', now()), ($3, 'b', 'https://b.example', now())`
        .replace('$1', `'${source}'`)
        .replace('$2', `'${partnerA}'`)
        .replace('$3', `'${partnerB}'`),
    );
    // As the version before lead_created_at wrote them: the fill triggers off, so no row has it.
    for (const table of LEAD_CHILD_TABLES)
      await pool.query(`ALTER TABLE ${table} DISABLE TRIGGER ${table}_lead_created_at`);
    await pool.query(
      `INSERT INTO leads (id, source_id, status, name, phone, created_at, updated_at)
       SELECT gen_random_uuid(), $1, 'delivered', 'n', '+14155550100', now() - (i * interval '60 days' / $2::int), now()
       FROM generate_series(1, $2::int) AS i`,
      [source, LEADS],
    );
    await pool.query(
      `INSERT INTO deliveries (id, lead_id, partner_id, status, attempts, price, updated_at)
       SELECT gen_random_uuid(), l.id, p.partner, p.status::"DeliveryStatus", 1, p.price, now()
       FROM leads l, (VALUES ($1::uuid, 'accepted', 12.5), ($2::uuid, 'rejected', NULL)) AS p (partner, status, price)`,
      [partnerA, partnerB],
    );
    await pool.query(
      `UPDATE deliveries SET status = 'rejected', price = NULL WHERE lead_id IN (SELECT id FROM leads ORDER BY id LIMIT $1)`,
      [UNSOLD],
    );
    await pool.query(
      `INSERT INTO lead_events (lead_id, status, at) SELECT id, s::"LeadStatus", created_at FROM leads,
         unnest(ARRAY['queued', 'delivered']) AS s;
       INSERT INTO delivery_attempts (delivery_id, attempt, outcome, duration_ms)
         SELECT id, 1, CASE status WHEN 'accepted' THEN 'accepted' ELSE 'rejected' END::"AttemptOutcome", 12 FROM deliveries;
       INSERT INTO ledger_entries (lead_id, kind, event_id, party, party_id, delivery_id, amount)
         SELECT d.lead_id, 'sale', d.id, p.party::"LedgerParty", CASE p.party WHEN 'partner' THEN d.partner_id ELSE l.source_id END,
                d.id, p.amount
         FROM deliveries d JOIN leads l ON l.id = d.lead_id, (VALUES ('partner', 12.5), ('source', -6.25)) AS p (party, amount)
         WHERE d.status = 'accepted';
       INSERT INTO feedback_events (partner_id, lead_id, delivery_id, event, outcome, event_id, at)
         SELECT partner_id, lead_id, id, 'converted', 'converted', 'c-' || id, now() FROM deliveries
         WHERE status = 'accepted' AND random() < 0.3;
       INSERT INTO returns (lead_id, delivery_id, partner_id, reason, filed_via)
         SELECT lead_id, id, partner_id, 'x', 'push' FROM deliveries WHERE status = 'accepted' AND random() < 0.1;
       INSERT INTO postbacks (id, lead_id, source_id, lead_status, updated_at)
         SELECT gen_random_uuid(), id, source_id, 'delivered', now() FROM leads`,
    );
    for (const table of LEAD_CHILD_TABLES)
      await pool.query(`ALTER TABLE ${table} ENABLE TRIGGER ${table}_lead_created_at`);

    // Rows without lead_created_at: the migrations stop at the validation, saying why; nothing of it applied.
    const refused = await errorOf(migrateBefore(null));
    expect(refused?.message).toMatch(/lead_events has rows without lead_created_at: let the worker's housekeeping/);
    await pool.query(
      `UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = $1 AND finished_at IS NULL`,
      [VALIDATE],
    );
    const ledgerMoney = `SELECT md5(string_agg(concat_ws('|', id, lead_id, kind, event_id, party, party_id, delivery_id,
                           amount, note, at, recorded_at), ',' ORDER BY id)) AS digest FROM ledger_entries`;
    const money = await one(ledgerMoney);
    await backfillLeadCreatedAt(pool);
    expect(await one(ledgerMoney)).toEqual(money);
    for (const table of LEAD_CHILD_TABLES)
      expect({
        table,
        ...(await one(`SELECT count(*)::int AS n FROM ${table} WHERE lead_created_at IS NULL`)),
      }).toEqual({ table, n: 0 });
    const before = await digests();
    expect(before.leads!.rows).toBe(LEADS);
    expect(before.deliveries!.rows).toBe(LEADS * 2);
    expect(before.ledger_entries!.rows).toBe((LEADS - UNSOLD) * 2);

    // Each switch alone, after the validations before it: no row of the old tables read.
    for (const [name, next] of SWITCHES) {
      await migrateBefore(name);
      const was = await reads();
      expect((await migrateBefore(next)).applied).toEqual([name]);
      const now = await reads();
      expect({ name, seq: now.seq - was.seq }).toEqual({ name, seq: 0 });
    }
    // The control: the measure moves when the old tables are read.
    const was = await reads();
    await pool.query('SELECT count(*) FROM ONLY deliveries_before_partitioning');
    expect((await reads()).seq - was.seq).toBe(LEADS * 2);
    expect(await digests()).toEqual(before);
    for (const table of TABLES) {
      expect(await one(`SELECT relkind::text AS kind FROM pg_class WHERE oid = $1::regclass`, [table])).toEqual({
        kind: 'p',
      });
      expect(await one(`SELECT DISTINCT tableoid::regclass::text AS part FROM ${table}`)).toEqual({
        part: `${table}_before_partitioning`,
      });
    }
  }, 180_000);

  it('a new month: the rows of a lead in its partitions, keys and references checked, cascades, the ledger refused', async () => {
    const bound = (
      await one<{ hi: Date }>(`SELECT hi FROM time_partition_bounds('leads_before_partitioning'::regclass)`)
    ).hi;
    const at = new Date(bound.getTime() + 10 * DAY_MS);
    for (const table of TABLES)
      expect(await runStatement(pool, CREATE_TIME_PARTITIONS, { table, unit: 'month', ahead: 1, at })).toHaveLength(2);
    const month = at.toISOString().slice(0, 7).replace('-', '');
    const { source, partner } = await one<{ source: string; partner: string }>(
      `SELECT (SELECT id::text FROM sources LIMIT 1) AS source, (SELECT id::text FROM partners ORDER BY name LIMIT 1) AS partner`,
    );
    const [lead, delivery] = [randomUUID(), randomUUID()];
    const maxEvent = (await one<{ id: string }>(`SELECT max(id)::text AS id FROM lead_events`)).id;
    await pool.query(
      `INSERT INTO leads (id, source_id, status, name, phone, created_at, updated_at)
         VALUES ($1, $3, 'delivered', 'n', '+14155550100', $5, now());
       INSERT INTO lead_events (lead_id, lead_created_at, status) VALUES ($1, $5, 'queued');
       INSERT INTO deliveries (id, lead_id, lead_created_at, partner_id, status, updated_at) VALUES ($2, $1, $5, $4, 'accepted', now());
       INSERT INTO delivery_attempts (delivery_id, lead_created_at, attempt, outcome, duration_ms) VALUES ($2, $5, 1, 'accepted', 9);
       INSERT INTO ledger_entries (lead_id, lead_created_at, kind, event_id, party, party_id, delivery_id, amount, at)
         VALUES ($1, $5, 'sale', $2, 'partner', $4, $2, 12.5, $5), ($1, $5, 'sale', $2, 'source', $3, $2, -6.25, $5);
       INSERT INTO postbacks (id, lead_id, lead_created_at, source_id, lead_status, updated_at)
         VALUES (gen_random_uuid(), $1, $5, $3, 'delivered', now())`
        .replaceAll('$1', `'${lead}'`)
        .replaceAll('$2', `'${delivery}'`)
        .replaceAll('$3', `'${source}'`)
        .replaceAll('$4', `'${partner}'`)
        .replaceAll('$5', `'${at.toISOString()}'`),
    );
    for (const table of ['leads', 'lead_events', 'deliveries', 'delivery_attempts', 'ledger_entries', 'postbacks'])
      expect(
        await one(
          `SELECT DISTINCT tableoid::regclass::text AS part FROM ${table} WHERE ${table === 'leads' ? 'id' : table === 'delivery_attempts' ? 'delivery_id' : 'lead_id'} = $1`,
          [table === 'delivery_attempts' ? delivery : lead],
        ),
      ).toEqual({ part: `${table}_p${month}` });
    // The sequences went on from the old tables' values.
    expect(
      BigInt((await one<{ id: string }>(`SELECT max(id)::text AS id FROM lead_events`)).id) > BigInt(maxEvent),
    ).toBe(true);
    // The reports' triggers: the lead and its sale counted once, in the lead's hour (the sale's too, here).
    await pool.query('SELECT report_fold(100000)');
    expect(
      await one(
        `SELECT sum(leads)::int AS leads, sum(sold)::int AS sold, sum(revenue)::text AS revenue FROM report_hourly
         WHERE hour = date_trunc('hour', $1::timestamptz, 'UTC')`,
        [at],
      ),
    ).toEqual({ leads: 1, sold: 2, revenue: '12.5000' }); // sold: the lead's outcome, and the partner's sale line

    // Keys: one delivery per lead and partner; the ledger's line of an event once.
    expect(
      await errorOf(
        pool.query(
          `INSERT INTO deliveries (id, lead_id, lead_created_at, partner_id, updated_at) VALUES (gen_random_uuid(), $1, $2, $3, now())`,
          [lead, at, partner],
        ),
      ),
    ).toMatchObject({ code: '23505' });
    expect(
      (
        await pool.query(
          `INSERT INTO ledger_entries (lead_id, lead_created_at, kind, event_id, party, party_id, delivery_id, amount)
           VALUES ($1, $2, 'sale', $3, 'partner', $4, $3, 12.5)
           ON CONFLICT (kind, event_id, party, lead_created_at) DO NOTHING`,
          [lead, at, delivery, partner],
        )
      ).rowCount,
    ).toBe(0);
    // References: a lead that is not there, or not of that month; a delivery likewise.
    for (const [sql, values] of [
      [`INSERT INTO lead_events (lead_id, lead_created_at, status) VALUES ($1, $2, 'queued')`, [randomUUID(), at]],
      [
        `INSERT INTO lead_events (lead_id, lead_created_at, status) VALUES ($1, $2, 'queued')`,
        [lead, new Date(at.getTime() - 1)],
      ],
      [
        `INSERT INTO delivery_attempts (delivery_id, lead_created_at, attempt, outcome, duration_ms) VALUES ($1, $2, 2, 'retry', 1)`,
        [randomUUID(), at],
      ],
    ] as const)
      expect(await errorOf(pool.query(sql, [...values]))).toMatchObject({ code: '23503' });

    // The ledger: no UPDATE or DELETE, of the partitioned table or of a partition named alone, old or new.
    for (const sql of [
      `UPDATE ledger_entries SET amount = 0 WHERE lead_id = '${lead}'`,
      `DELETE FROM ledger_entries WHERE lead_id = '${lead}'`,
      `UPDATE ledger_entries_p${month} SET amount = 0`,
      `DELETE FROM ledger_entries_p${month}`,
      `DELETE FROM ledger_entries_before_partitioning WHERE party = 'source'`,
      `TRUNCATE ledger_entries`,
    ])
      expect({ sql, error: (await errorOf(pool.query(sql)))?.message }).toEqual({
        sql,
        error: expect.stringMatching(/ledger entries are immutable/),
      });
    // Cascades: a lead without money goes with its history; a lead with money is kept (RESTRICT).
    expect(await errorOf(pool.query(`DELETE FROM leads WHERE id = $1`, [lead]))).toMatchObject({
      code: expect.stringMatching(/^23(001|503)$/), // RESTRICT, reported as a foreign key's violation through partitions
    });
    const unsold = (
      await one<{ id: string }>(
        `SELECT l.id::text FROM leads l WHERE NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.lead_id = l.id) LIMIT 1`,
      )
    ).id;
    const history = `SELECT (SELECT count(*) FROM deliveries WHERE lead_id = $1)::int AS deliveries,
                            (SELECT count(*) FROM lead_events WHERE lead_id = $1)::int AS events,
                            (SELECT count(*) FROM postbacks WHERE lead_id = $1)::int AS postbacks`;
    expect(await one(history, [unsold])).toEqual({ deliveries: 2, events: 2, postbacks: 1 });
    await pool.query(`DELETE FROM leads WHERE id = $1`, [unsold]);
    expect(await one(history, [unsold])).toEqual({ deliveries: 0, events: 0, postbacks: 0 });
  }, 60_000);
});
