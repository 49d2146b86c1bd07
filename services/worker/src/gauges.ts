import { scrapeGauge, type WorkerMetrics } from '@leadrouter/metrics';
import { capPeriods } from '@leadrouter/routing';
import {
  CAP_IN_USE,
  CAPPED_PARTNERS,
  COUNT_DEAD_LETTERS,
  COUNT_PAUSED_PARTNERS,
  runStatement,
  sqlPool,
  type Statement,
} from '@leadrouter/db';
import type { WorkerDeps } from './deps.js';

const JOB_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;
/**
 * How long a scrape waits for the queue depths. The worker's Redis
 * connections keep commands until Redis is back: without a bound, a scrape
 * while Redis is away would wait that long too.
 */
export const QUEUE_DEPTH_DEADLINE_MS = 2_000;

/**
 * Gauges read when Prometheus scrapes: queue depths from Redis, dead letters,
 * paused partners and cap usage from PostgreSQL (indexed counts). Every
 * worker exposes them; they describe the shared system, so alert on `max`,
 * not `sum`, across workers. Typed statements, like the sweeper's: a scrape must not
 * load Prisma's query compiler into the worker.
 */
export function registerWorkerGauges(deps: WorkerDeps, metrics: WorkerMetrics): void {
  const { registry } = metrics;
  const pool = sqlPool(deps.db);
  /** The one value `n` a counting statement returns. */
  const count = async <P>(stmt: Statement<P, { n: number }>, values: P) =>
    (await runStatement(pool, stmt, values))[0]!.n;
  // Without an answer from Redis in time, the scrape goes on without the queue depths (their series are absent).
  scrapeGauge(registry, 'leadrouter_queue_jobs', 'Jobs in each queue, by state', ['queue', 'state'], async () => {
    const queues = deps.queues.all();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), QUEUE_DEPTH_DEADLINE_MS);
    });
    const counts = await Promise.race([
      Promise.all(queues.map((q) => q.getJobCounts(...JOB_STATES))).catch(() => undefined),
      deadline,
    ]).finally(() => clearTimeout(timer));
    if (!counts) return [];
    return queues.flatMap((queue, i) =>
      JOB_STATES.map((state) => ({ labels: { queue: queue.name, state }, value: counts[i]![state] ?? 0 })),
    );
  });
  scrapeGauge(
    registry,
    'leadrouter_dead_letters',
    'Dead letters an operator can act on: dead-lettered deliveries not retried, discarded or superseded (their lead sold through other partners)',
    [],
    async () => [{ labels: {}, value: await count(COUNT_DEAD_LETTERS, {}) }],
  );
  scrapeGauge(
    registry,
    'leadrouter_partners_paused',
    'Active partners paused by the circuit breaker or a 410',
    [],
    async () => [
      {
        labels: {},
        value: await count(COUNT_PAUSED_PARTNERS, {}),
      },
    ],
  );
  scrapeGauge(
    registry,
    'leadrouter_partner_cap_usage_ratio',
    'Share of a partner’s cap in use in the current period (pending or accepted deliveries / cap)',
    ['partner', 'period'],
    async () => {
      const capped = await runStatement(pool, CAPPED_PARTNERS, {});
      const out = [];
      const now = deps.now();
      for (const p of capped) {
        const { hourStart, dayStart } = capPeriods(now, p.schedule?.timezone);
        const inUse = (since: Date) => count(CAP_IN_USE, { partnerId: p.id, since });
        if (p.capHourly)
          out.push({ labels: { partner: p.name, period: 'hour' }, value: (await inUse(hourStart)) / p.capHourly });
        if (p.capDaily)
          out.push({ labels: { partner: p.name, period: 'day' }, value: (await inUse(dayStart)) / p.capDaily });
      }
      return out;
    },
  );
}
