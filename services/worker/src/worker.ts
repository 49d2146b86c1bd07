import { DelayedError, RedisQueueBackend, Worker, type Job } from 'bullmq';
import { redisTarget } from '@leadrouter/config';
import { sqlPool, SqlTransactionGroups } from '@leadrouter/db';
import {
  createRedis,
  QUEUES,
  subQueueNames,
  type DeliverJob,
  type PostbackJob,
  type QueueName,
  type RouteJob,
} from '@leadrouter/queue';
import type { WorkerDeps } from './deps.js';
import { busyDelayMs } from '@leadrouter/lifecycle/worker';
import { pingRuntime, startAnsweringPings } from './answer-ping.js';
import { deliverAttempt } from './deliver.js';
import { sendPostback } from './postback.js';
import { routeLead } from './route-lead.js';
import { startSweeper } from './sweeper.js';
import { startHousekeeping } from './housekeeping.js';
import { startReportFold } from './report-fold.js';
import { startStatusPulls } from './status-pulls.js';
import { startDraining } from './drain.js';
import { startQueueWatchdog } from './queue-watchdog.js';

export interface RunningWorker {
  /** Stops taking jobs, lets in-flight ones finish (or hands them back), then closes. */
  stop(): Promise<void>;
}

/**
 * BullMQ lock settings: a worker killed mid-job stops renewing its lock
 * (renewed every lockDuration / 2), and the stalled check (one per
 * stalledInterval across all workers) hands the job to another worker once
 * the lock is gone and the job was already seen active on the check before:
 * 5–15 s after the kill, at most lockDuration + 2 × stalledInterval (20 s)
 * when the dead worker had run the last check (ADR 0001). Deliveries record
 * their attempt only after the partner answered, so a taken-over job re-sends
 * with the same Idempotency-Key (at-least-once) — once the attempt's lease has
 * ended: a job taken from a live worker (its event loop blocked, Redis away
 * longer than the lock) finds the attempt leased and waits instead of sending.
 */
export const LOCK = { lockDuration: 10_000, stalledInterval: 5_000, maxStalledCount: 5 };

/**
 * How long closing may take once no job runs any more. BullMQ's close() waits
 * for its blocking connection to end, which never happens when it is caught
 * reconnecting to Redis (taskforcesh/bullmq#4656): without a bound, SIGTERM
 * while Redis is away or just back would end at the shutdown deadline.
 */
const CLOSE_GRACE_MS = 2_000;

/** How often, in sweeper intervals, a worker looks for jobs left in sub-queues of another layout. */
const DRAIN_CHECK_SWEEPS = 6;

export function startWorker(given: WorkerDeps): RunningWorker {
  // Every auction of this process (sources' pings and leads') is recorded for stats by one bulk writer.
  const pings = pingRuntime(given);
  // The leads' transactions of every job of this process share commits when they run at once (ADR 0038).
  const transactions = given.transactions ?? new SqlTransactionGroups(sqlPool(given.db));
  const deps: WorkerDeps = { ...given, pingLog: pings.log, transactions };
  const { config, log } = deps;
  // Sources' pings: plain lists, not BullMQ (ADR 0032), PING_CONCURRENCY at once per list.
  const answering = startAnsweringPings(deps, pings);
  const connection = createRedis({ target: redisTarget(config), role: 'worker' });
  const common = { connection, prefix: config.QUEUE_PREFIX, ...LOCK };
  let running = 0;
  // Per sub-queue, for the watchdog: jobs started so far, and running now.
  const started = new Map<string, number>();
  const runningIn = new Map<string, number>();
  const add = (counts: Map<string, number>, name: string, n: number) => counts.set(name, (counts.get(name) ?? 0) + n);
  const counted =
    <T, R>(processor: (job: Job<T>, token?: string) => Promise<R>) =>
    async (job: Job<T>, token?: string): Promise<R> => {
      running++;
      add(started, job.queueName, 1);
      add(runningIn, job.queueName, 1);
      try {
        return await processor(job, token);
      } finally {
        running--;
        add(runningIn, job.queueName, -1);
      }
    };

  const processors: Record<QueueName, (job: Job, token?: string) => Promise<unknown>> = {
    route: counted(async (job: Job<RouteJob>) => routeLead(forJob(deps, QUEUES.route, job), job.data.leadId)),
    deliver: counted(async (job: Job<DeliverJob>, token?: string) => {
      const step = await deliverAttempt(forJob(deps, QUEUES.deliver, job), job.data);
      if (typeof step === 'object') {
        // Another job's attempt of this delivery is in flight (its lease runs): look again when the lease ends.
        await job.moveToDelayed(Math.max(step.until.getTime(), Date.now()) + 100, token);
        throw new DelayedError();
      }
      if (step !== 'busy') return step;
      // The partner is at its concurrency limit: give the slot back to other
      // partners' deliveries and try this one again, later the longer it waits.
      const busySince = job.data.busySince ?? Date.now();
      if (job.data.busySince === undefined) await job.updateData({ ...job.data, busySince });
      await job.moveToDelayed(Date.now() + busyDelayMs(deps.random, Date.now() - busySince), token);
      throw new DelayedError();
    }),
    postback: counted(async (job: Job<PostbackJob>) => sendPostback(forJob(deps, QUEUES.postback, job), job.data)),
  };
  // Per sub-queue. Route jobs make the lead's first attempts themselves (`deliverNow`): as many in flight as
  // deliver jobs. Not divided among the sub-queues: a slow partner filling a share of one would hold up the others.
  const concurrency: Record<QueueName, number> = {
    route: config.WORKER_CONCURRENCY,
    deliver: config.WORKER_CONCURRENCY,
    postback: Math.max(4, Math.ceil(config.WORKER_CONCURRENCY / 4)),
  };
  const workers = new Set<Worker>();
  const consume = (queue: QueueName, name: string): Worker => {
    const w = new Worker(name, processors[queue], { ...common, concurrency: concurrency[queue] });
    w.on('failed', (job, err) => log.error({ err, jobId: job?.id, queue: w.name }, 'job failed'));
    w.on('error', (err) => log.warn({ err: { message: err.message }, queue: w.name }, 'worker connection error'));
    // A job whose lock was not renewed in time (its worker died, or was too busy for lockDuration) runs again.
    w.on('stalled', (jobId) =>
      log.warn({ jobId, queue: w.name }, 'a job stalled (its lock expired) and was handed back to run again'),
    );
    workers.add(w);
    return w;
  };
  let stopped = false;
  // Every sub-queue of every queue (ADR 0024).
  const layout = new Map<string, { queue: QueueName; worker: Worker }>();
  for (const queue of Object.values(QUEUES))
    for (const name of subQueueNames(queue, config.QUEUE_PARTITIONS))
      layout.set(name, { queue, worker: consume(queue, name) });
  // A sub-queue's worker that stops taking due jobs (its blocking connection stuck after a failover) is replaced.
  const watchdog = startQueueWatchdog({
    connection,
    prefix: config.QUEUE_PREFIX,
    log,
    watched: () =>
      [...layout].map(([name, { worker }]) => ({
        name,
        worker,
        started: started.get(name) ?? 0,
        running: runningIn.get(name) ?? 0,
      })),
    replace(name, stuck) {
      const entry = layout.get(name);
      if (entry?.worker !== stuck || stopped) return;
      workers.delete(stuck);
      layout.set(name, { queue: entry.queue, worker: consume(entry.queue, name) });
      deps.metrics?.queueWorkersReplaced.inc({ queue: entry.queue });
      // It runs no job: what its close() cannot end (the stuck connection) is let go after the grace.
      void stuck.close().catch(() => undefined);
      setTimeout(() => releaseStuckClose(stuck), CLOSE_GRACE_MS).unref();
    },
  });
  const housekeeping = startHousekeeping(deps);
  const reportFold = startReportFold(deps);
  const statusPulls = startStatusPulls(deps);
  const draining = startDraining(
    deps,
    connection,
    {
      consume,
      async release(w) {
        await w.close();
        releaseStuckClose(w);
        workers.delete(w);
      },
    },
    config.SWEEP_INTERVAL_MS * DRAIN_CHECK_SWEEPS,
  );
  // The sweeper starts once the jobs left in other layouts' sub-queues are known, so it finds them there
  // instead of adding them a second time.
  let sweeper: { stop(): Promise<void> } | undefined;
  const sweeping = draining.ready.then(() => {
    if (!stopped) sweeper = startSweeper(deps, config.SWEEP_INTERVAL_MS);
  });

  return {
    async stop() {
      // At once, all together: waiting for a sweep in progress first would leave the workers taking jobs meanwhile.
      let closed = false;
      stopped = true;
      const closeWorkers = () => Promise.allSettled([...workers].map((w) => w.close()));
      void Promise.allSettled([
        sweeping.then(() => sweeper?.stop()),
        watchdog.stop(),
        housekeeping.stop(),
        reportFold.stop(),
        statusPulls.stop(),
        Promise.allSettled([closeWorkers(), answering.stop()]).then(() => pings.log.close()),
        // Again once the drain check has stopped (it waits for its Redis command, for ever while Redis is
        // away), so a worker it started meanwhile is not left out; close() is idempotent.
        draining.stop().then(closeWorkers),
      ]).then(() => (closed = true));
      const pause = () => new Promise((resolve) => setTimeout(resolve, 50));
      while (!closed && running + answering.running > 0) await pause(); // in-flight jobs and pings finish
      for (const end = Date.now() + CLOSE_GRACE_MS; !closed && Date.now() < end;) await pause();
      if (!closed) log.warn('the queue workers did not close (a Redis connection is reconnecting); stopping anyway');
      // Also when close() returned: it swallows a quit() that failed on a reconnecting connection and says closed.
      for (const w of workers) releaseStuckClose(w);
      answering.disconnect();
      connection.disconnect();
    },
  };
}

/**
 * What a BullMQ close() that met a reconnecting blocking connection
 * (taskforcesh/bullmq#4656, open in 6.7) may leave running: the blocking
 * connection, reconnecting for ever, and, when close() hangs, the lock renewal
 * timer (every lockDuration / 4), which close() stops only after the step that
 * hangs. No job runs any more, so nothing needs either; on a worker that did
 * close cleanly both calls do nothing.
 *
 * The blocking connection's ioredis client is disconnected itself: BullMQ's own disconnectBlocking() does
 * nothing once close() has marked that client `end`, which close() does even when its quit() failed on a
 * reconnecting connection, while ioredis goes on reconnecting (the client's status then turns back to
 * `reconnecting` at its next attempt, so whether disconnectBlocking() acted depended on timing). Its public
 * `client` resolves only once the connection was ready, never while Redis stayed away, so the client is taken
 * from the connection's `_client`. Neither it nor the lock manager is public API, hence the guarded lookups:
 * should a release rename them, this does nothing there and test/ops/worker-stop-redis-gone.test.ts fails.
 */
function releaseStuckClose(worker: Worker): void {
  const backend = worker.getBackend();
  const blocking = backend instanceof RedisQueueBackend ? backend.blockingConnection : undefined;
  (blocking as unknown as { _client?: { disconnect?: () => void } } | undefined)?._client?.disconnect?.();
  const { lockManager } = worker as unknown as { lockManager?: { close?: () => Promise<void> } };
  if (typeof lockManager?.close === 'function') void lockManager.close().catch(() => undefined);
}

/**
 * The processor's dependencies with a logger that puts the job's id and queue on every line it writes: the
 * queue's own name (`route`), with the sub-queue the job came from beside it (ADR 0024).
 */
function forJob(deps: WorkerDeps, queue: QueueName, job: Job): WorkerDeps {
  return { ...deps, log: deps.log.child({ jobId: job.id, queue, subQueue: job.queueName }) };
}
