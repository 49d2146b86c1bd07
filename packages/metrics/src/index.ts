import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export { Registry };

/**
 * The metrics of each process, named by Prometheus conventions
 * (`leadrouter_` prefix, base units, `_total` for counters). Each process
 * builds its own registry, so two apps in one test process do not collide.
 * Labels are bounded: source and partner names, outcomes, queue states.
 */
/**
 * prom-client's process and Node.js metrics, less the three gauges it names
 * `…_total` (`nodejs_active_{handles,requests,resources}_total`), which
 * `promtool check metrics` rejects: a `_total` suffix is for counters. The
 * per-type gauges without the suffix stay.
 */
function processMetrics(registry: Registry, prefix: string): void {
  collectDefaultMetrics({ register: registry, prefix });
  for (const kind of ['handles', 'requests', 'resources'])
    registry.removeSingleMetric(`${prefix}nodejs_active_${kind}_total`);
}

/** A counter with each of `series` present at 0, so a rate over it exists before the first event. */
function withZeros<T extends string>(counter: Counter<T>, series: Partial<Record<T, string>>[]): Counter<T> {
  for (const labels of series) counter.inc(labels, 0);
  return counter;
}

export function createIngestMetrics(opts: { processMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (opts.processMetrics ?? true) processMetrics(registry, 'leadrouter_ingest_');
  return {
    registry,
    leadsReceived: new Counter({
      name: 'leadrouter_leads_received_total',
      help: 'Leads posted to the ingest, by source and answer (accepted, duplicate, rejected, rate_limited, unauthorized, error)',
      labelNames: ['source', 'answer'] as const,
      registers: [registry],
    }),
    authFailures: withZeros(
      new Counter({
        name: 'leadrouter_ingest_auth_failures_total',
        help: 'Lead API requests with a missing or unknown API key, by answer (unauthorized: 401; throttled: 429, their address sent too many)',
        labelNames: ['answer'] as const,
        registers: [registry],
      }),
      [{ answer: 'unauthorized' }, { answer: 'throttled' }],
    ),
    pingAnswers: withZeros(
      new Counter({
        name: 'leadrouter_ping_answers_total',
        help: "Sources' pings answered, by answer (bid; no_bid: the worker's auction found none; late: the worker did not answer by the deadline, so no bid)",
        labelNames: ['answer'] as const,
        registers: [registry],
      }),
      [{ answer: 'bid' }, { answer: 'no_bid' }, { answer: 'late' }],
    ),
    httpDuration: new Histogram({
      name: 'leadrouter_ingest_http_request_duration_seconds',
      help: 'Ingest HTTP request duration, by route and status class',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}

export type IngestMetrics = ReturnType<typeof createIngestMetrics>;

export function createWorkerMetrics(opts: { processMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (opts.processMetrics ?? true) processMetrics(registry, 'leadrouter_worker_');
  return {
    registry,
    deliveryAttempts: new Counter({
      name: 'leadrouter_delivery_attempts_total',
      help: 'Delivery attempts, by partner and outcome (accepted, rejected, retry, dead_lettered)',
      labelNames: ['partner', 'outcome'] as const,
      registers: [registry],
    }),
    deliveryDuration: new Histogram({
      name: 'leadrouter_delivery_duration_seconds',
      help: 'Duration of one delivery attempt (the partner’s answer time), by partner',
      labelNames: ['partner'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    pings: new Counter({
      name: 'leadrouter_pings_total',
      help: 'Pings of auctions to partners, by partner and outcome (bid, no_bid, timeout, error)',
      labelNames: ['partner', 'outcome'] as const,
      registers: [registry],
    }),
    pingDuration: new Histogram({
      name: 'leadrouter_ping_duration_seconds',
      help: 'Duration of one ping (the partner’s answer time, or the auction’s deadline), by partner',
      labelNames: ['partner'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.8, 1, 2.5],
      registers: [registry],
    }),
    leadsRouted: new Counter({
      name: 'leadrouter_leads_routed_total',
      help: 'Leads routed, by outcome of the routing decision (matched, unmatched)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    postbacks: new Counter({
      name: 'leadrouter_postback_attempts_total',
      help: 'Postback attempts to sources, by outcome (delivered, retry, failed)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    partnerPauses: new Counter({
      name: 'leadrouter_partner_pauses_total',
      help: 'Partners paused by the circuit breaker or a 410 Gone, by partner',
      labelNames: ['partner'] as const,
      registers: [registry],
    }),
    sweeperRequeued: new Counter({
      name: 'leadrouter_sweeper_requeued_total',
      help: 'Work the sweeper put back on the queue, by kind (lead, delivery, advance, postback)',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    housekeepingDeleted: new Counter({
      name: 'leadrouter_housekeeping_deleted_rows_total',
      help: 'Rows the worker housekeeping deleted after their retention, by table',
      labelNames: ['table'] as const,
      registers: [registry],
    }),
    statusPullRuns: new Counter({
      name: 'leadrouter_status_pull_runs_total',
      help: 'Status pulls run, by partner and outcome (ok; failed: a page could not be read, or no item of it)',
      labelNames: ['partner', 'outcome'] as const,
      registers: [registry],
    }),
    statusPullItems: new Counter({
      name: 'leadrouter_status_pull_items_total',
      help: 'Items of status pulls, by partner and result (updated, unchanged, unmatched, ambiguous, unreadable, refused)',
      labelNames: ['partner', 'result'] as const,
      registers: [registry],
    }),
    sweeperRuns: new Counter({
      name: 'leadrouter_sweeper_runs_total',
      help: 'Sweeper rounds run by this process',
      registers: [registry],
    }),
    queueWorkersReplaced: new Counter({
      name: 'leadrouter_queue_workers_replaced_total',
      help: 'Sub-queue workers this process replaced because they took no job while jobs were due (a stuck Redis connection), by queue',
      labelNames: ['queue'] as const,
      registers: [registry],
    }),
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

/** Gauges whose value is read when Prometheus scrapes (queue depths, dead letters, paused partners, cap usage). */
export function scrapeGauge(
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[],
  read: () => Promise<{ labels: Record<string, string>; value: number }[]>,
): Gauge {
  return new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      for (const { labels, value } of await read()) this.set(labels, value);
    },
  });
}

/**
 * `GET /metrics` for a node or Express server: the registry in Prometheus'
 * text format; with a token, only for `Authorization: Bearer <token>`.
 */
export function metricsHandler(registry: Registry, token?: string) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (token !== undefined && !sameToken(req.headers.authorization ?? '', `Bearer ${token}`)) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' });
      res.end(JSON.stringify({ status: 'rejected', message: 'metrics need Authorization: Bearer $METRICS_TOKEN' }));
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`# metrics could not be collected: ${(err as Error).message}\n`);
      },
    );
  };
}

function sameToken(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
