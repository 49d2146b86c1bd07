// The worker's housekeeping: ingest rejections are kept 30 days (README "Posting leads (for sources)"; ADR 0014),
// Idempotency-Keys for their 24 h window (ADR 0035 Decision 5), cap counters two months after their period
// started (ADR 0030); rejections and keys are deleted in small batches, by whichever worker takes the round.
import { randomUUID } from 'node:crypto';
import { pruneIdempotencyKeys } from '@leadrouter/lifecycle';
import {
  CAP_COUNTER_RETENTION_DAYS,
  pruneCapCounters,
  pruneRejections,
  REJECTION_RETENTION_DAYS,
} from '../../services/worker/src/housekeeping';
import { TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

const DAY = 24 * 60 * 60_000;

describe('ingest rejections', () => {
  const stack = new TestStack({ worker: false });
  beforeAll(() => stack.start(), 60_000);
  afterAll(() => stack.stop());

  /** Writes `count` rejection rows answered `daysAgo` days before `now`. */
  const rejections = (count: number, daysAgo: number, now = new Date()) =>
    stack.db.$executeRaw`INSERT INTO ingest_rejections (source_id, http_status, reason, count, at)
      SELECT NULL, 401, 'unauthorized', 3, ${new Date(now.getTime() - daysAgo * DAY)}::timestamptz
      FROM generate_series(1, ${count}::int)`;
  const left = async () =>
    (
      await stack.db.$queryRaw<{ old: number; recent: number }[]>`
        SELECT count(*) FILTER (WHERE at < now() - interval '30 days')::int AS old,
               count(*) FILTER (WHERE at >= now() - interval '30 days')::int AS recent
        FROM ingest_rejections`
    )[0]!;

  beforeEach(() => stack.db.$executeRaw`DELETE FROM ingest_rejections`);

  it('are deleted after 30 days, in batches, the recent ones kept', async () => {
    const now = new Date('2031-06-01T00:00:00Z');
    await rejections(23, REJECTION_RETENTION_DAYS + 1, now);
    await rejections(4, REJECTION_RETENTION_DAYS - 1, now);
    const deleted = await pruneRejections({ db: stack.db, now: () => now }, { batch: 5 });
    expect(deleted).toBe(23);
    const kept = await stack.db.ingestRejection.count();
    expect(kept).toBe(4);
    // A stop between batches ends the round early; the next round finishes it.
    await rejections(12, REJECTION_RETENTION_DAYS + 2, now);
    let calls = 0;
    const partial = await pruneRejections({ db: stack.db, now: () => now }, { batch: 5, stopping: () => calls++ >= 1 });
    expect(partial).toBe(5);
    expect(await pruneRejections({ db: stack.db, now: () => now }, { batch: 5 })).toBe(7);
  });

  it('are deleted by a running worker, without anyone asking', async () => {
    await rejections(40, REJECTION_RETENTION_DAYS + 5);
    await rejections(3, 1);
    expect(await left()).toEqual({ old: 40, recent: 3 });
    await stack.startWorker();
    await waitFor(async () => (await left()).old === 0, { timeoutMs: 30_000, what: 'the old rejections deleted' });
    expect(await left()).toEqual({ old: 0, recent: 3 });
  });
});

describe('Idempotency-Keys', () => {
  const stack = new TestStack({ worker: false });
  beforeAll(() => stack.start(), 60_000);
  afterAll(() => stack.stop());

  it('are deleted once their lead is past the 24 h replay window, in batches, the others kept', async () => {
    const now = new Date('2031-06-01T12:00:00Z');
    const sourceId = randomUUID();
    /** Keys `key<from>`… of `count` leads created `hoursAgo` hours before `now` (no foreign key: the lead need not exist). */
    const keys = (from: number, count: number, hoursAgo: number) =>
      stack.db.$executeRaw`INSERT INTO idempotency_keys (source_id, key, lead_id, lead_created_at, request_hash)
        SELECT ${sourceId}::uuid, 'key' || g, gen_random_uuid(),
               ${new Date(now.getTime() - hoursAgo * 3600_000)}::timestamptz, repeat('f', 64)
        FROM generate_series(${from}::int, ${from + count - 1}::int) AS g`;
    await keys(0, 13, 24.01);
    await keys(100, 4, 23.99);
    expect(await pruneIdempotencyKeys({ db: stack.db, now: () => now }, { batch: 5 })).toBe(13);
    const left = await stack.db.idempotencyKey.findMany({ where: { sourceId }, orderBy: { key: 'asc' } });
    expect(left.map((k) => k.key)).toEqual(['key100', 'key101', 'key102', 'key103']);
    // A stop between batches ends the round early; the next round finishes it.
    await keys(200, 7, 30);
    let calls = 0;
    expect(
      await pruneIdempotencyKeys({ db: stack.db, now: () => now }, { batch: 5, stopping: () => calls++ >= 1 }),
    ).toBe(5);
    expect(await pruneIdempotencyKeys({ db: stack.db, now: () => now }, { batch: 5 })).toBe(2);
    expect(await stack.db.idempotencyKey.count({ where: { sourceId } })).toBe(4);
  });
});

describe('cap counters', () => {
  const stack = new TestStack({ worker: false });
  beforeAll(() => stack.start(), 60_000);
  afterAll(() => stack.stop());

  it('are deleted two months after their period started, those of periods still counted kept', async () => {
    const now = new Date('2031-06-15T12:00:00Z');
    const partner = await stack.createPartner({ url: 'https://p.example/leads', caps: { monthly: 10, hourly: 5 } });
    const counter = (period: 'hour' | 'month', daysAgo: number) =>
      stack.db.capCounter.create({
        data: { partnerId: partner.id, period, periodStart: new Date(now.getTime() - daysAgo * DAY), count: 1 },
      });
    await counter('hour', CAP_COUNTER_RETENTION_DAYS + 1);
    await counter('month', CAP_COUNTER_RETENTION_DAYS + 14);
    await counter('month', 45); // April: over, but a late delivery of its last days may still settle
    await counter('hour', 0);
    expect(await pruneCapCounters({ db: stack.db, now: () => now })).toBe(2);
    expect(await stack.db.capCounter.count()).toBe(2);
  });
});
