import { scrapeGauge, type WorkerMetrics } from '@leadrouter/metrics';
import type { Schedule } from '@leadrouter/core';
import { capPeriods } from '@leadrouter/routing';
import type { WorkerDeps } from './deps.js';

const JOB_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/**
 * Gauges read when Prometheus scrapes: queue depths from Redis, dead letters,
 * paused partners and cap usage from PostgreSQL (indexed counts). Every
 * worker exposes them; they describe the shared system, so alert on `max`,
 * not `sum`, across workers.
 */
export function registerWorkerGauges(deps: WorkerDeps, metrics: WorkerMetrics): void {
  const { registry } = metrics;
  scrapeGauge(registry, 'leadrouter_queue_jobs', 'Jobs in each queue, by state', ['queue', 'state'], async () => {
    const out = [];
    for (const queue of deps.queues.all()) {
      const counts = await queue.getJobCounts(...JOB_STATES);
      for (const state of JOB_STATES) out.push({ labels: { queue: queue.name, state }, value: counts[state] ?? 0 });
    }
    return out;
  });
  scrapeGauge(
    registry,
    'leadrouter_dead_letters',
    'Deliveries dead-lettered and not yet retried or discarded',
    [],
    async () => [{ labels: {}, value: await deps.db.delivery.count({ where: { status: 'dead_lettered' } }) }],
  );
  scrapeGauge(
    registry,
    'leadrouter_partners_paused',
    'Active partners paused by the circuit breaker or a 410',
    [],
    async () => [
      { labels: {}, value: await deps.db.partner.count({ where: { active: true, pausedAt: { not: null } } }) },
    ],
  );
  scrapeGauge(
    registry,
    'leadrouter_partner_cap_usage_ratio',
    'Share of a partner’s cap in use in the current period (pending or accepted deliveries / cap)',
    ['partner', 'period'],
    async () => {
      const capped = await deps.db.partner.findMany({
        where: { active: true, OR: [{ capHourly: { not: null } }, { capDaily: { not: null } }] },
        select: { id: true, name: true, capHourly: true, capDaily: true, schedule: true },
      });
      const out = [];
      const now = deps.now();
      for (const p of capped) {
        const { hourStart, dayStart } = capPeriods(now, (p.schedule as Schedule | null)?.timezone);
        const count = (since: Date) =>
          deps.db.delivery.count({
            where: { partnerId: p.id, status: { in: ['pending', 'accepted'] }, createdAt: { gte: since } },
          });
        if (p.capHourly)
          out.push({ labels: { partner: p.name, period: 'hour' }, value: (await count(hourStart)) / p.capHourly });
        if (p.capDaily)
          out.push({ labels: { partner: p.name, period: 'day' }, value: (await count(dayStart)) / p.capDaily });
      }
      return out;
    },
  );
}
