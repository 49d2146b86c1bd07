// The partitions of the tables partitioned by time (ADR 0035; prisma/hand-written/partitions.sql): the worker's
// housekeeping makes them ahead — once, however many workers run it at the same time — moves into a new
// partition what the DEFAULT partition took for its range, and drops a partition once its whole range is past
// the table's retention. Times are set in 2031, where nothing else of the test database is.
import { createWorkerMetrics } from '@leadrouter/metrics';
import { maintainPartitions, REJECTION_RETENTION_DAYS, TIME_PARTITIONED } from '../../services/worker/src/housekeeping';
import { TestStack } from '../support/stack';
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

  it('ingest_rejections: a day per partition, seven days ahead, rejections kept 30 days; pings PING_RETENTION_DAYS', () => {
    const config = { PING_RETENTION_DAYS: 12 };
    expect(
      TIME_PARTITIONED.map(({ keepDays, ...t }) => ({
        ...t,
        keepDays: typeof keepDays === 'number' ? keepDays : keepDays(config),
      })),
    ).toEqual([
      { table: 'ingest_rejections', unit: 'day', ahead: 7, keepDays: REJECTION_RETENTION_DAYS },
      { table: 'pings', unit: 'day', ahead: 7, keepDays: 12 },
      { table: 'ping_bids', unit: 'day', ahead: 7, keepDays: 12 },
    ]);
    expect(REJECTION_RETENTION_DAYS).toBe(30);
  });

  it('are made ahead once when several workers make them at the same time', async () => {
    const now = new Date('2031-03-10T23:59:00Z');
    const rounds = await Promise.all(
      Array.from({ length: 4 }, () => maintainPartitions({ db: stack.db, now: () => now })),
    );
    const days = ['10', '11', '12', '13', '14', '15', '16', '17'].map((d) => `ingest_rejections_p203103${d}`);
    expect(rounds.flatMap((r) => r.created).sort()).toEqual(
      [
        ...days,
        ...days.map((d) => d.replace('ingest_rejections', 'pings')),
        ...days.map((d) => d.replace('ingest_rejections', 'ping_bids')),
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
    expect(created).toHaveLength(8 * TIME_PARTITIONED.length);
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
