import { Worker, type Job } from 'bullmq';
import { createRedis, QUEUES, type DeliverJob, type RouteJob } from '@leadrouter/queue';
import type { WorkerDeps } from './deps.js';
import { deliverAttempt } from './deliver.js';
import { routeLead } from './route-lead.js';
import { startSweeper } from './sweeper.js';

export interface RunningWorker {
  /** Stops taking jobs, lets in-flight ones finish (or hands them back), then closes. */
  stop(): Promise<void>;
}

/**
 * BullMQ lock settings: a worker killed mid-job stops renewing its lock, and
 * another worker takes the job over after at most lockDuration +
 * stalledInterval (15 s + 15 s). Deliveries record their attempt only after
 * the partner answered, so a taken-over job re-sends with the same
 * Idempotency-Key (at-least-once).
 */
const LOCK = { lockDuration: 15_000, stalledInterval: 15_000, maxStalledCount: 5 };

export function startWorker(deps: WorkerDeps): RunningWorker {
  const { config, log } = deps;
  const connection = createRedis({ url: config.REDIS_URL, role: 'worker' });
  const common = { connection, prefix: config.QUEUE_PREFIX, ...LOCK };

  const routeWorker = new Worker<RouteJob>(
    QUEUES.route,
    async (job: Job<RouteJob>) => routeLead(deps, job.data.leadId),
    { ...common, concurrency: Math.max(4, Math.ceil(config.WORKER_CONCURRENCY / 4)) },
  );
  const deliverWorker = new Worker<DeliverJob>(
    QUEUES.deliver,
    async (job: Job<DeliverJob>) => deliverAttempt(deps, job.data),
    { ...common, concurrency: config.WORKER_CONCURRENCY },
  );
  for (const w of [routeWorker, deliverWorker]) {
    w.on('failed', (job, err) => log.error({ err, jobId: job?.id, queue: w.name }, 'job failed'));
    w.on('error', (err) => log.warn({ err: { message: err.message }, queue: w.name }, 'worker connection error'));
  }
  const sweeper = startSweeper(deps, config.SWEEP_INTERVAL_MS);

  return {
    async stop() {
      await sweeper.stop();
      await Promise.all([routeWorker.close(), deliverWorker.close()]);
      connection.disconnect();
    },
  };
}
