// The partitions of the tables partitioned by time (ADR 0035; prisma/hand-written/partitions.sql): the worker's
// housekeeping makes them ahead — once, however many workers run it at the same time — moves into a new
// partition what the DEFAULT partition took for its range, and drops a partition once its whole range is past
// the table's retention. Times are set in 2031, where nothing else of the test database is.
import pg from 'pg';
import { createWorkerMetrics } from '@leadrouter/metrics';
import {
  maintainPartitions,
  REJECTION_RETENTION_DAYS,
  retentionBound,
  TIME_PARTITIONED,
} from '../../services/worker/src/housekeeping';
import { Fixtures } from '../support/fixtures';
import { ADMIN_TOKEN, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

const DAY = 24 * 60 * 60_000;

describe('time partitions', () => {
  const stack = new TestStack({ worker: false });
  beforeAll(() => stack.start(), 60_000);
  afterAll(() => stack.stop());

  /** The partitions of ingest_rejections, by name, with the rows each holds. */
  const partitions = async () =>
    Object.fromEntries(
      (
        await stack.db.$queryRaw<{ name: string; rows: number }[]>`
          SELECT c.relname AS name, (SELECT count(*)::int FROM ingest_rejections r WHERE r.tableoid = c.oid) AS rows
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = 'ingest_rejections'::regclass ORDER BY c.relname`
      ).map((p) => [p.name, p.rows]),
    );
  const rejections = (count: number, at: Date, sourceId: string | null = null) =>
    stack.db.$executeRaw`INSERT INTO ingest_rejections (source_id, http_status, reason, geo, channel, at)
      SELECT ${sourceId}::uuid, 409, 'duplicate', 'US', 'search', ${at}::timestamptz FROM generate_series(1, ${count}::int)`;

  it('ingest_rejections: a day per partition, seven days ahead, kept 30 days; pings PING_RETENTION_DAYS; history by month', () => {
    const config = { PING_RETENTION_DAYS: 12, LEAD_HISTORY_RETENTION_MONTHS: 5 };
    expect(
      TIME_PARTITIONED.map(({ keep, ...t }) => ({ ...t, keep: typeof keep === 'number' ? keep : keep(config) })),
    ).toEqual([
      { table: 'ingest_rejections', unit: 'day', ahead: 7, keep: REJECTION_RETENTION_DAYS },
      { table: 'pings', unit: 'day', ahead: 7, keep: 12 },
      { table: 'ping_bids', unit: 'day', ahead: 7, keep: 12 },
      { table: 'lead_events', unit: 'month', ahead: 2, keep: 5 },
      { table: 'delivery_attempts', unit: 'month', ahead: 2, keep: 5 },
    ]);
    expect(REJECTION_RETENTION_DAYS).toBe(30);
    // A month goes once that many whole months have passed since it ended.
    expect(retentionBound('month', 3, new Date('2031-05-10T12:00:00Z'))).toEqual(new Date('2031-02-01T00:00:00Z'));
    expect(retentionBound('month', 1, new Date('2031-01-01T00:00:00Z'))).toEqual(new Date('2030-12-01T00:00:00Z'));
    expect(retentionBound('day', 30, new Date('2031-05-05T12:00:00Z'))).toEqual(new Date('2031-04-05T12:00:00Z'));
  });

  it('are made ahead once when several workers make them at the same time', async () => {
    const now = new Date('2031-03-10T23:59:00Z');
    const rounds = await Promise.all(
      Array.from({ length: 4 }, () => maintainPartitions({ db: stack.db, now: () => now })),
    );
    const days = ['10', '11', '12', '13', '14', '15', '16', '17'].map((d) => `ingest_rejections_p203103${d}`);
    const months = ['03', '04', '05'].map((m) => `2031${m}`);
    expect(rounds.flatMap((r) => r.created).sort()).toEqual(
      [
        ...days,
        ...days.map((d) => d.replace('ingest_rejections', 'pings')),
        ...days.map((d) => d.replace('ingest_rejections', 'ping_bids')),
        ...months.map((m) => `lead_events_p${m}`),
        ...months.map((m) => `delivery_attempts_p${m}`),
      ].sort(),
    );
    expect(Object.keys(await partitions())).toEqual(expect.arrayContaining(days));
    // Again: nothing more.
    expect(await maintainPartitions({ db: stack.db, now: () => now })).toEqual({ created: [], dropped: [] });
  });

  it('take from the DEFAULT partition the rows of their range, which the reports do not count again', async () => {
    const source = await stack.createSource();
    await rejections(5, new Date('2031-04-02T10:00:00Z'), source.id);
    await rejections(2, new Date('2031-04-20T10:00:00Z'), source.id);
    const duplicates = async () =>
      (
        await stack.db.$queryRaw<{ n: number }[]>`
          SELECT coalesce(sum(duplicates), 0)::int AS n FROM report_deltas WHERE source_id = ${source.id}::uuid`
      )[0]!.n;
    expect(await duplicates()).toBe(7);
    expect((await partitions()).ingest_rejections_default).toBe(7);

    const { created } = await maintainPartitions({ db: stack.db, now: () => new Date('2031-04-01T08:00:00Z') });
    // Eight days of each table by day (the month tables have April and May already; June is new).
    expect(created).toHaveLength(8 * 3 + 2);
    const after = await partitions();
    expect(after).toMatchObject({ ingest_rejections_p20310402: 5, ingest_rejections_default: 2 });
    expect(await duplicates()).toBe(7);
  });

  it('are dropped once their whole day is older than the retention', async () => {
    const now = new Date('2031-05-05T12:00:00Z');
    await rejections(3, new Date('2031-04-05T06:00:00Z')); // 30 days and 6 hours old: its day is not all past
    const before = await partitions();
    expect(before).toMatchObject({ ingest_rejections_p20310402: 5, ingest_rejections_p20310405: 3 });

    const metrics = createWorkerMetrics({ processMetrics: false });
    const { dropped } = await maintainPartitions({ db: stack.db, now: () => now, metrics });
    // Every partition that ends by 2031-04-05T00:00 (30 days before noon on 2031-05-05 is 2031-04-05T12:00).
    expect(dropped).toEqual(
      expect.arrayContaining([
        'ingest_rejections_p20310310',
        'ingest_rejections_p20310317',
        'ingest_rejections_p20310401',
        'ingest_rejections_p20310404',
      ]),
    );
    expect(dropped).not.toContain('ingest_rejections_p20310405');
    expect(dropped).not.toContain('ingest_rejections_default');
    const after = await partitions();
    expect(after.ingest_rejections_p20310402).toBeUndefined();
    expect(after).toMatchObject({ ingest_rejections_p20310405: 3, ingest_rejections_default: expect.any(Number) });
    // The rows the dropped partitions held count as deleted: the 5 of 2031-04-02.
    const deleted = (await metrics.housekeepingDeleted.get()).values.find(
      (v) => v.labels.table === 'ingest_rejections',
    );
    expect(deleted?.value).toBe(5);
  });

  it('pings and their answers are dropped after PING_RETENTION_DAYS, and kept for ever with 0', async () => {
    const pingDays = async (table: string) =>
      (
        await stack.db.$queryRaw<{ name: string }[]>`
          SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = ${table}::regclass AND c.relname LIKE '%\_p2031%' ORDER BY 1`
      ).map((r) => r.name);
    expect(await pingDays('pings')).toEqual(expect.arrayContaining(['pings_p20310310', 'pings_p20310405']));
    const now = () => new Date('2031-04-10T12:00:00Z');
    const kept = await maintainPartitions({ db: stack.db, now, config: { PING_RETENTION_DAYS: 0 } });
    expect(kept.dropped.filter((p) => p.startsWith('ping'))).toEqual([]);
    // Five days: every day that ends by 2031-04-05T12:00.
    const { dropped } = await maintainPartitions({ db: stack.db, now, config: { PING_RETENTION_DAYS: 5 } });
    for (const table of ['pings', 'ping_bids']) {
      expect(dropped).toEqual(expect.arrayContaining([`${table}_p20310310`, `${table}_p20310404`]));
      expect(dropped).not.toContain(`${table}_p20310405`);
      expect(dropped).not.toContain(`${table}_default`);
      const left = await pingDays(table);
      expect(left[0]).toBe(`${table}_p20310405`);
    }
  });

  it('drop a month of leads’ history after LEAD_HISTORY_RETENTION_MONTHS, keeping the leads and their money', async () => {
    const fx = new Fixtures(stack.db);
    const source = await fx.source();
    const partner = await fx.partner();
    const leads: Record<string, { id: string; deliveryId: string }> = {};
    for (const month of ['03', '04', '05']) {
      const lead = await fx.lead({
        sourceId: source.id,
        status: 'delivered',
        createdAt: new Date(`2031-${month}-15T10:00:00Z`),
      });
      const delivery = await fx.delivery({ leadId: lead.id, partnerId: partner.id, status: 'accepted' });
      await stack.db.delivery.update({ where: { id: delivery.id }, data: { price: '12.5' } });
      await stack.db
        .$executeRaw`INSERT INTO ledger_entries (id, lead_id, party, party_id, kind, amount, delivery_id, event_id)
        VALUES (gen_random_uuid(), ${lead.id}::uuid, 'partner', ${partner.id}::uuid, 'sale', 12.5, ${delivery.id}::uuid,
                ${delivery.id}::uuid)`;
      await stack.db.leadEvent.create({
        data: { leadId: lead.id, status: 'delivered', leadCreatedAt: lead.createdAt },
      });
      await stack.db.deliveryAttempt.create({
        data: {
          deliveryId: delivery.id,
          attempt: 1,
          outcome: 'accepted',
          durationMs: 9,
          leadCreatedAt: lead.createdAt,
        },
      });
      leads[month] = { id: lead.id, deliveryId: delivery.id };
    }
    const where = (table: 'lead_events' | 'delivery_attempts', month: string) =>
      table === 'lead_events'
        ? stack.db.$queryRawUnsafe<{ part: string }[]>(
            `SELECT tableoid::regclass::text AS part FROM lead_events WHERE lead_id = $1::uuid`,
            leads[month]!.id,
          )
        : stack.db.$queryRawUnsafe<{ part: string }[]>(
            `SELECT tableoid::regclass::text AS part FROM delivery_attempts WHERE delivery_id = $1::uuid`,
            leads[month]!.deliveryId,
          );
    for (const table of ['lead_events', 'delivery_attempts'] as const)
      for (const month of ['03', '04', '05'])
        expect(await where(table, month)).toEqual([{ part: `${table}_p2031${month}` }]);

    const now = () => new Date('2031-07-10T12:00:00Z');
    const kept = await maintainPartitions({ db: stack.db, now, config: { LEAD_HISTORY_RETENTION_MONTHS: 0 } });
    expect(kept.dropped.filter((p) => /^(lead_events|delivery_attempts)_/.test(p))).toEqual([]);
    const metrics = createWorkerMetrics({ processMetrics: false });
    // Three whole months since it ended: March goes (April ended on 1 May: two months and ten days ago).
    const { dropped } = await maintainPartitions({
      db: stack.db,
      now,
      metrics,
      config: { LEAD_HISTORY_RETENTION_MONTHS: 3 },
    });
    // (And the partition of the rows from before partitioning, all of whose range is older still.)
    expect(dropped.filter((p) => /^(lead_events|delivery_attempts)_/.test(p)).sort()).toEqual([
      'delivery_attempts_before_partitioning',
      'delivery_attempts_p203103',
      'lead_events_before_partitioning',
      'lead_events_p203103',
    ]);
    for (const table of ['lead_events', 'delivery_attempts'] as const) {
      expect(await where(table, '03')).toEqual([]);
      expect(await where(table, '04')).toEqual([{ part: `${table}_p203104` }]);
      const deleted = (await metrics.housekeepingDeleted.get()).values.find((v) => v.labels.table === table);
      expect(deleted?.value).toBeGreaterThanOrEqual(1);
    }
    // The lead, its delivery's outcome and its money are kept; its view shows them without the history.
    const view = await stack.request('GET', `/v1/leads/${leads['03']!.id}`, { key: ADMIN_TOKEN });
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({
      id: leads['03']!.id,
      status: 'delivered',
      events: [],
      deliveries: [],
      money: { revenue: 12.5, entries: [{ kind: 'sale', amount: 12.5 }] },
    });
    expect(
      await stack.db.delivery.findUniqueOrThrow({
        where: { id: leads['03']!.deliveryId },
        select: { status: true, attempts: true },
      }),
    ).toEqual({ status: 'accepted', attempts: 1 });
  });

  it('give way to the leads’ writers: a month’s foreign key never holds up a lead’s write for long', async () => {
    // A lead's transaction in progress holds leads against the SHARE ROW EXCLUSIVE lock that attaching a month of
    // lead_events takes (its foreign key); every write after the attach's request queues behind it.
    const fx = new Fixtures(stack.db);
    const source = await fx.source();
    const held = await fx.lead({ sourceId: source.id, status: 'routing' });
    const writer = new pg.Client({ connectionString: stack.database.url });
    const later = new pg.Client({ connectionString: stack.database.url });
    await Promise.all([writer.connect(), later.connect()]);
    try {
      await writer.query('BEGIN');
      await writer.query(`UPDATE leads SET updated_at = now() WHERE id = $1`, [held.id]);
      const made = maintainPartitions({ db: stack.db, now: () => new Date('2032-01-10T12:00:00Z') });
      await waitFor(
        async () =>
          (
            await stack.db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_locks
              WHERE relation = 'leads'::regclass AND mode = 'ShareRowExclusiveLock' AND NOT granted`
          )[0]!.n > 0,
        { intervalMs: 5, what: 'the attach waiting for the lock on leads' },
      );
      // Another lead's write, while the attach waits: it goes through (the attach gives up within 100 ms) instead of
      // waiting for the transaction in progress to end — which here it never would by itself.
      await later.query(`SET statement_timeout = '2s'`);
      await later.query(`UPDATE leads SET updated_at = now() WHERE source_id = $1 AND id <> $2`, [source.id, held.id]);
      await writer.query('COMMIT');
      // And once the transaction ended, the attach got its turn: the month is made.
      expect((await made).created).toEqual(
        expect.arrayContaining(['lead_events_p203201', 'delivery_attempts_p203201']),
      );
    } finally {
      await writer.query('ROLLBACK').catch(() => undefined);
      await Promise.all([writer.end(), later.end()]);
    }
  });

  it('are made by a running worker, without anyone asking', async () => {
    const today = new Date().toISOString().slice(0, 10).replaceAll('-', '');
    const inAWeek = new Date(Date.now() + 7 * DAY).toISOString().slice(0, 10).replaceAll('-', '');
    await stack.startWorker();
    await waitFor(async () => `ingest_rejections_p${inAWeek}` in (await partitions()), {
      timeoutMs: 30_000,
      what: 'the partition of a week ahead',
    });
    // Today's rows go to today's partition, or to the one of the rows from before partitioning (today and
    // tomorrow, the day the test database was migrated).
    await rejections(1, new Date());
    const [{ part }] = await stack.db.$queryRaw<[{ part: string }]>`
      SELECT tableoid::regclass::text AS part FROM ingest_rejections WHERE at <= now() ORDER BY at DESC, id DESC LIMIT 1`;
    expect([`ingest_rejections_p${today}`, 'ingest_rejections_before_partitioning']).toContain(part);
  });
});
