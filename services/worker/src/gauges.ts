import { scrapeGauge, type WorkerMetrics } from '@leadrouter/metrics';
import { amountNumber, type Amount } from '@leadrouter/money';
import { readCapUsage } from '@leadrouter/lifecycle/worker';
import { capsInUse, type CapLimit } from '@leadrouter/routing';
import {
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
    const queues = deps.queues.counted();
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
    'Share of each of a partner’s caps in use in its current period: leads pending or accepted / cap (period hour, day, week, month), what they hold / budget (day_budget, month_budget)',
    ['partner', 'period'],
    async () => {
      const capped = await runStatement(pool, CAPPED_PARTNERS, {});
      const states = await readCapUsage(deps.db, capped, deps.now());
      return capped.flatMap((p) => {
        const { caps, usage, periods } = states.get(p.id)!;
        return Object.entries(capsInUse(caps, usage, periods)).map(([limit, use]) => ({
          labels: { partner: p.name, period: GAUGE_PERIODS[limit as CapLimit] },
          value: ratio(asNumber(use.used), asNumber(use.limit)),
        }));
      });
    },
  );
}

/** The gauge's `period` label of each limit. */
const GAUGE_PERIODS: Record<CapLimit, string> = {
  hourly: 'hour',
  daily: 'day',
  weekly: 'week',
  monthly: 'month',
  dailyBudget: 'day_budget',
  monthlyBudget: 'month_budget',
};

const asNumber = (v: number | Amount) => (typeof v === 'number' ? v : amountNumber(v));

/** used / limit, with a limit of 0 full (1) rather than infinite. */
const ratio = (used: number, limit: number) => (limit === 0 ? 1 : used / limit);
