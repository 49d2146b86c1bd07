// The worker's gauges read from PostgreSQL (dead letters, paused partners, cap
// usage) and its readiness check, on rows written straight to PostgreSQL.
import { createDb } from '@leadrouter/db';
import { createWorkerMetrics } from '@leadrouter/metrics';
import { createRedis, Queues } from '@leadrouter/queue';
import { capPeriods } from '@leadrouter/routing';
import type { WorkerDeps } from '../../services/worker/src/deps';
import { QUEUE_DEPTH_DEADLINE_MS, registerWorkerGauges } from '../../services/worker/src/gauges';
import { startHealthServer } from '../../services/worker/src/health';
import { Fixtures } from '../support/fixtures';
import { freePort } from '../support/process';
import { TestStack } from '../support/stack';

describe('the worker’s gauges and readiness', () => {
  const stack = new TestStack({ worker: false });
  const now = new Date();
  let deps: WorkerDeps;
  let fixtures: Fixtures;

  beforeAll(async () => {
    await stack.start();
    fixtures = new Fixtures(stack.db);
    deps = stack.directWorkerDeps({ now: () => now });
  });
  afterAll(() => stack.stop());

  it('count dead letters, paused active partners and each capped partner’s use of its caps', async () => {
    const source = await fixtures.source();
    const partner = (data: {
      name: string;
      capHourly?: number;
      capDaily?: number;
      schedule?: { timezone: string; days: Record<string, string[]> };
      active?: boolean;
      pausedAt?: Date;
    }) => stack.db.partner.create({ data: { url: 'http://127.0.0.1:9/leads', ...data } });
    const capped = await partner({
      name: 'capped',
      capHourly: 4,
      capDaily: 10,
      schedule: { timezone: 'America/New_York', days: {} },
    });
    const daily = await partner({ name: 'daily-only', capDaily: 5 });
    await partner({ name: 'inactive-capped', capHourly: 1, active: false, pausedAt: now });
    const pausedPartner = await partner({ name: 'paused', pausedAt: now });

    const delivery = async (
      partnerId: string,
      status: 'pending' | 'accepted' | 'rejected' | 'dead_lettered' | 'superseded',
      createdAt: Date,
    ) => {
      const lead = await fixtures.lead({ sourceId: source.id });
      const d = await fixtures.delivery({ leadId: lead.id, partnerId, status });
      await stack.db.$executeRaw`UPDATE deliveries SET created_at = ${createdAt} WHERE id = ${d.id}::uuid`;
    };
    const { hour: hourStart, day: dayStart } = capPeriods(now, 'America/New_York');
    await delivery(capped.id, 'accepted', now);
    await delivery(capped.id, 'pending', hourStart);
    await delivery(capped.id, 'rejected', now);
    await delivery(capped.id, 'dead_lettered', now);
    await delivery(capped.id, 'accepted', new Date(dayStart.getTime() - 1));
    const earlierToday = hourStart.getTime() > dayStart.getTime();
    if (earlierToday) await delivery(capped.id, 'pending', new Date(hourStart.getTime() - 1));
    await delivery(daily.id, 'accepted', now);
    await delivery(pausedPartner.id, 'dead_lettered', now);
    await delivery(daily.id, 'superseded', now); // its lead was sold elsewhere: nothing to act on

    const metrics = createWorkerMetrics({ processMetrics: false });
    registerWorkerGauges(deps, metrics);
    const values = async (name: string) => (await metrics.registry.getSingleMetric(name)!.get()).values;

    expect(await values('leadrouter_dead_letters')).toEqual([expect.objectContaining({ value: 2 })]);
    expect(await values('leadrouter_partners_paused')).toEqual([expect.objectContaining({ value: 1 })]);
    const usage = await values('leadrouter_partner_cap_usage_ratio');
    expect(usage.map(({ labels, value }) => ({ labels, value }))).toEqual(
      expect.arrayContaining([
        { labels: { partner: 'capped', period: 'hour' }, value: 2 / 4 },
        { labels: { partner: 'capped', period: 'day' }, value: (earlierToday ? 3 : 2) / 10 },
        { labels: { partner: 'daily-only', period: 'day' }, value: 1 / 5 },
      ]),
    );
    expect(usage).toHaveLength(3);
  });

  it('are scraped within seconds while Redis is away, without the queue depths', async () => {
    const away = createRedis({ url: `redis://127.0.0.1:${await freePort()}`, role: 'worker' });
    away.on('error', () => undefined);
    const queues = new Queues(away, stack.prefix);
    const metrics = createWorkerMetrics({ processMetrics: false });
    registerWorkerGauges({ ...deps, queues, metrics }, metrics);
    const health = await startHealthServer({ ...deps, queues, metrics }, 0);
    try {
      const started = Date.now();
      const res = await fetch(`http://127.0.0.1:${health.port}/metrics`, { signal: AbortSignal.timeout(15_000) });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(Date.now() - started).toBeLessThan(QUEUE_DEPTH_DEADLINE_MS + 3_000);
      expect(text).toMatch(/^leadrouter_dead_letters \d+$/m);
      expect(text).not.toMatch(/^leadrouter_queue_jobs\{/m);
    } finally {
      await health.close();
      away.disconnect();
      await queues.close().catch(() => undefined);
    }
  });

  it('/readyz says which of Redis and PostgreSQL answers', async () => {
    const health = await startHealthServer(deps, 0);
    const unreachable = createDb({
      databaseUrl: `postgresql://postgres@127.0.0.1:${await freePort()}/nothing`,
      connectionTimeoutMs: 500,
    });
    const down = await startHealthServer({ ...deps, db: unreachable }, 0);
    try {
      const ready = async (port: number) => {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`);
        return { status: res.status, body: await res.json() };
      };
      expect(await ready(health.port)).toEqual({
        status: 200,
        body: { status: 'ok', checks: { redis: true, postgres: true } },
      });
      expect(await ready(down.port)).toEqual({
        status: 503,
        body: { status: 'unavailable', checks: { redis: true, postgres: false } },
      });
    } finally {
      await health.close();
      await down.close();
      await unreachable.$disconnect();
    }
  });
});
