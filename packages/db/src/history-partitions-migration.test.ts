import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { insertSourceAndPartner, useDatabaseMigratedBefore } from '../../../test/support/migrations.js';
import { rowsScanned } from '../../../test/support/seq-scans.js';
import { applyMigrations } from './migrate.js';
import { orderedValues } from './sql.js';
import { inlineSql, runStatement } from './statements.js';
import { ADD_LEAD_EVENTS, LEAD_VIEW } from './tables/leads.js';
import { CREATE_TIME_PARTITIONS, DROP_TIME_PARTITIONS } from './tables/partitions.js';

const FIRST = '20261203120000_history_partitions_prepare';
const VALIDATE = '20261203120400_history_partitions_validate';
const SWITCH = '20261203120500_history_partitions';
const LEADS = 3_000;
/** The application_name of this test's own pool: every other connection is one whose statistics it waits for. */
const TEST_CONNECTIONS = 'history-partitions-migration-test';

/**
 * The conversion of existing lead_events and delivery_attempts into tables partitioned by the lead's month (ADR 0035
 * Decision 7): on a database migrated up to just before it and seeded with LEADS leads of the last 40 days, each with
 * three events and a delivery of two attempts (in SQL of that schema), the migration stops with a clear message while
 * a row lacks lead_created_at; then it keeps every row as it was, in the partition of the rows from before
 * partitioning, reads none of them under the switch, and leaves tables whose keys, foreign keys, cascades and
 * sequences work, whose rows go to their lead's month, and whose old partition the housekeeping drops whole.
 */
describe(`migrations ${FIRST} to ${SWITCH}`, () => {
  const m = useDatabaseMigratedBefore(FIRST, { applicationName: TEST_CONNECTIONS });
  const { one } = m;

  /** Every row of both tables, in id order, as digests. */
  const digests = async () => ({
    events: await one(
      `SELECT count(*)::int AS rows, md5(string_agg(concat_ws('|', id, lead_id, status, partner_id, detail,
              extract(epoch FROM at), extract(epoch FROM lead_created_at)), ',' ORDER BY id)) AS digest FROM lead_events`,
    ),
    attempts: await one(
      `SELECT count(*)::int AS rows, md5(string_agg(concat_ws('|', id, delivery_id, attempt, outcome, http_status,
              duration_ms, error, response_excerpt, extract(epoch FROM at), extract(epoch FROM lead_created_at)), ','
              ORDER BY id)) AS digest FROM delivery_attempts`,
    ),
  });
  const partitions = async (table: string) =>
    (
      await m.pool.query<{ name: string; bound: string }>(
        `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY c.relname`,
        [table],
      )
    ).rows;

  it('waits for the backfill, then keeps every row, reads none under the switch, and leaves tables that work', async () => {
    const { source, partner } = await insertSourceAndPartner(m.pool);
    await m.pool.query(
      `INSERT INTO leads (id, source_id, status, name, phone, created_at, updated_at)
       SELECT uuidv7(), $1, 'delivered', 'Jane Fixture', '+14155550100',
              now() - make_interval(secs => i * (40 * 86400.0 / $2)), now()
       FROM generate_series(1, $2::int) AS i`,
      [source, LEADS],
    );
    // As the version before wrote them: without lead_created_at (the fill triggers of that schema give it).
    await m.pool.query(
      `INSERT INTO lead_events (lead_id, status, partner_id, detail, at)
       SELECT l.id, s.status::"LeadStatus", CASE WHEN s.n = 3 THEN $1::uuid END,
              CASE WHEN s.n = 2 THEN '{"route": "all"}'::jsonb END, l.created_at + s.n * interval '1 second'
       FROM leads l, (VALUES (1, 'queued'), (2, 'routing'), (3, 'delivered')) AS s (n, status) ORDER BY l.created_at, s.n`,
      [partner],
    );
    await m.pool.query(
      `INSERT INTO deliveries (id, lead_id, partner_id, status, attempts, price, updated_at)
       SELECT uuidv7(), id, $1, 'accepted', 2, 12.5, now() FROM leads`,
      [partner],
    );
    await m.pool.query(
      `INSERT INTO delivery_attempts (delivery_id, attempt, outcome, http_status, duration_ms, error, response_excerpt, at)
       SELECT d.id, a.n, a.outcome::"AttemptOutcome", a.http, 10 * a.n, a.error, a.excerpt, d.updated_at
       FROM deliveries d, (VALUES (1, 'retry', 503, 'HTTP 503', NULL), (2, 'accepted', 200, NULL, '{"ok":true}'))
         AS a (n, outcome, http, error, excerpt) ORDER BY d.id, a.n`,
    );
    // One event the backfill has not reached yet (its trigger off, as a version before the column wrote it).
    await m.pool.query('ALTER TABLE lead_events DISABLE TRIGGER lead_events_lead_created_at');
    await m.pool.query(`INSERT INTO lead_events (lead_id, status) SELECT id, 'delivered' FROM leads LIMIT 1`);
    await m.pool.query('ALTER TABLE lead_events ENABLE TRIGGER lead_events_lead_created_at');

    const upToSwitch = m.migrationsBefore(SWITCH);
    await expect(
      applyMigrations({ databaseUrl: m.database.url, migrationsDir: upToSwitch, log: () => undefined }),
    ).rejects.toThrow(
      /lead_events has rows without lead_created_at: run the worker until its housekeeping has finished/,
    );
    expect(await one(`SELECT relkind::text AS kind FROM pg_class WHERE oid = 'lead_events'::regclass`)).toEqual({
      kind: 'r',
    });
    // The backfill's work (here by hand), and the failed attempt marked rolled back, as the runner's message says.
    await m.pool.query(
      `UPDATE lead_events e SET lead_created_at = l.created_at FROM leads l WHERE l.id = e.lead_id AND e.lead_created_at IS NULL`,
    );
    await m.pool.query(`UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = $1`, [VALIDATE]);
    const prepared = await applyMigrations({
      databaseUrl: m.database.url,
      migrationsDir: upToSwitch,
      log: () => undefined,
    });
    expect(prepared.applied).toEqual([VALIDATE]);

    const seeded = await digests();
    expect(seeded).toMatchObject({ events: { rows: 3 * LEADS + 1 }, attempts: { rows: 2 * LEADS } });
    const { events: eventsOid, attempts: attemptsOid } = await one<{ events: number; attempts: number }>(
      `SELECT 'lead_events'::regclass::oid::int AS events, 'delivery_attempts'::regclass::oid::int AS attempts`,
    );
    // The statistics see a scan (the measure can fail): a count, on a connection of its own.
    const readBefore = await rowsScanned(m.pool, TEST_CONNECTIONS, [eventsOid, attemptsOid]);
    const client = new pg.Client({ connectionString: m.database.url });
    await client.connect();
    await client.query('SELECT count(*) FROM delivery_attempts');
    await client.end();
    expect(await rowsScanned(m.pool, TEST_CONNECTIONS, [eventsOid, attemptsOid])).toBe(readBefore + 2 * LEADS);

    const switched = await applyMigrations({ databaseUrl: m.database.url, log: () => undefined });
    expect(switched.applied[0]).toBe(SWITCH);
    expect(await rowsScanned(m.pool, TEST_CONNECTIONS, [eventsOid, attemptsOid])).toBe(readBefore + 2 * LEADS);
    expect(await digests()).toEqual(seeded);
    for (const [table, oid] of [
      ['lead_events', eventsOid],
      ['delivery_attempts', attemptsOid],
    ] as const) {
      expect(await partitions(table)).toEqual([
        { name: `${table}_before_partitioning`, bound: expect.stringMatching(/^FOR VALUES FROM \(MINVALUE\) TO/) },
        { name: `${table}_default`, bound: 'DEFAULT' },
      ]);
      expect(await one(`SELECT $1::regclass::oid::int AS oid`, [`${table}_before_partitioning`])).toEqual({ oid });
      expect(
        await one(`SELECT pg_get_constraintdef(oid) AS pkey FROM pg_constraint WHERE conname = $1`, [`${table}_pkey`]),
      ).toEqual({ pkey: 'PRIMARY KEY (id, lead_created_at)' });
      // Their backfill is done for good: no worker walks them again.
      expect(
        await one(`SELECT count(*)::int AS n FROM housekeeping_marks WHERE name = $1`, [`backfill:${table}`]),
      ).toEqual({ n: 1 });
    }
    // A row without the lead's month is refused, not routed to a partition by chance.
    await expect(
      m.pool.query(`INSERT INTO lead_events (lead_id, status) SELECT id, 'delivered' FROM leads LIMIT 1`),
    ).rejects.toMatchObject({ code: '23502' });
    // A delivery's attempt numbers stay unique.
    await expect(
      m.pool.query(
        `INSERT INTO delivery_attempts (delivery_id, attempt, outcome, duration_ms, lead_created_at)
         SELECT delivery_id, attempt, outcome, 1, lead_created_at FROM delivery_attempts LIMIT 1`,
      ),
    ).rejects.toMatchObject({ code: '23505' });

    // The months after the old partition's range, and a lead of the first of them: its events, written by the
    // worker's statement, go to that month's partition, with ids after the old ones (the sequence moved).
    const bound = (
      await one<{ hi: Date }>(`SELECT hi FROM time_partition_bounds('lead_events_before_partitioning'::regclass)`)
    ).hi;
    for (const table of ['lead_events', 'delivery_attempts'])
      expect(await runStatement(m.pool, CREATE_TIME_PARTITIONS, { table, unit: 'month', ahead: 1, at: bound })).toEqual(
        [
          { partition: `${table}_p${bound.toISOString().slice(0, 7).replace('-', '')}` },
          { partition: expect.stringMatching(new RegExp(`^${table}_p\\d{6}$`)) },
        ],
      );
    const month = bound.toISOString().slice(0, 7).replace('-', '');
    const { max } = await one<{ max: string }>('SELECT max(id)::text AS max FROM lead_events');
    const newLead = randomUUID();
    await m.pool.query(
      `INSERT INTO leads (id, source_id, status, name, phone, created_at, updated_at)
       VALUES ($1, $2, 'routing', 'Jane Later', '+14155550101', $3, now())`,
      [newLead, source, new Date(bound.getTime() + 3_600_000)],
    );
    await runStatement(m.pool, ADD_LEAD_EVENTS, {
      leadIds: [newLead],
      status: 'routing',
      partnerIds: [null],
      details: [null],
      at: new Date(),
    });
    expect(
      await one(
        `SELECT tableoid::regclass::text AS part, id > $2::bigint AS after FROM lead_events WHERE lead_id = $1`,
        [newLead, max],
      ),
    ).toEqual({ part: `lead_events_p${month}`, after: true });

    await m.pool.query(
      `WITH d AS (
         INSERT INTO deliveries (id, lead_id, partner_id, status, attempts, updated_at)
         VALUES (uuidv7(), $1, $2, 'accepted', 1, now()) RETURNING id)
       INSERT INTO delivery_attempts (delivery_id, attempt, outcome, duration_ms, lead_created_at)
       SELECT d.id, 1, 'accepted', 7, l.created_at FROM d, leads l WHERE l.id = $1`,
      [newLead, partner],
    );
    // The admin's lead view reads the lead's month of its events and attempts, no other (run-time pruning on the
    // lead's created_at): the other partitions' scans are never executed.
    const { rows: plan } = await m.pool.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ${inlineSql(LEAD_VIEW, orderedValues(LEAD_VIEW, { id: newLead }))}`,
    );
    const read = plan
      .map((r) => / on ((?:lead_events|delivery_attempts)_\w+) \w+ \(actual/.exec(r['QUERY PLAN'])?.[1])
      .filter((name): name is string => name !== undefined);
    expect(read.sort()).toEqual([`delivery_attempts_p${month}`, `lead_events_p${month}`]);

    // The foreign keys: a delivery of an unknown lead's attempt is refused; a lead deleted takes its history along.
    await expect(
      m.pool.query(
        `INSERT INTO delivery_attempts (delivery_id, attempt, outcome, duration_ms, lead_created_at)
         VALUES ($1, 1, 'accepted', 1, now())`,
        [randomUUID()],
      ),
    ).rejects.toMatchObject({ code: '23503' });
    await m.pool.query('DELETE FROM leads WHERE id = $1', [newLead]);
    expect(await one(`SELECT count(*)::int AS n FROM lead_events WHERE lead_id = $1`, [newLead])).toEqual({ n: 0 });

    // The housekeeping drops the old partition whole once all of its range is past the retention, never before.
    for (const [table, rows] of [
      ['lead_events', 3 * LEADS + 1],
      ['delivery_attempts', 2 * LEADS],
    ] as const) {
      expect(
        await runStatement(m.pool, DROP_TIME_PARTITIONS, { table, before: new Date(bound.getTime() - 1) }),
      ).toEqual([]);
      expect(await runStatement(m.pool, DROP_TIME_PARTITIONS, { table, before: bound })).toEqual([
        { partition: `${table}_before_partitioning`, rows },
      ]);
    }
    // The leads and their deliveries are kept.
    expect(
      await one(`SELECT count(*)::int AS leads, (SELECT count(*)::int FROM deliveries) AS deliveries FROM leads`),
    ).toEqual({ leads: LEADS, deliveries: LEADS });
  }, 120_000);
});
