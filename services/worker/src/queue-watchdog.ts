import { Queue, type Worker } from 'bullmq';
import type { RedisClient } from '@leadrouter/queue';
import type { Logger } from 'pino';
import { every } from './every.js';

/**
 * How often the watchdog looks at each sub-queue's worker, and how long one may hold back due jobs
 * (taking none, with none running) before it is replaced. A healthy worker takes a due job within
 * milliseconds; one whose shard is failing over waits up to the failover (10–20 s) and is then on
 * its way again, so the bound is above that.
 */
export const WATCHDOG = { intervalMs: 10_000, stuckMs: 30_000 };

/** A delayed job this long past its due time is due: a healthy worker promotes it at once. */
const DELAYED_GRACE_MS = 1_000;

/** A sub-queue's worker as the watchdog sees it. */
export interface Watched {
  /** The sub-queue (BullMQ's queue name). */
  name: string;
  worker: Worker;
  /** Jobs this worker has started so far (a counter that only grows). */
  started: number;
  /** Jobs of this sub-queue running in this process now. */
  running: number;
}

interface Seen {
  worker: Worker;
  started: number;
  /** Since when it has held back due jobs, or undefined. */
  stuckSince?: number;
}

/**
 * Replaces a sub-queue's BullMQ worker that has stopped taking jobs while its
 * sub-queue holds due ones (ADR 0024, "A worker that stops taking jobs is
 * replaced"). BullMQ's worker relies on its blocking connection to learn of new jobs; on a
 * Redis Cluster that connection (an ioredis Cluster of its own) can be left
 * after a failover in `disconnecting` with a node that never connects, and
 * the worker then waits for it for ever without an error
 * (taskforcesh/bullmq#4138's shape; seen in the benchmark's failover, where
 * jobs stayed due for minutes). A worker counts as stuck when, for `stuckMs`,
 * it started no job, ran none, and its sub-queue had jobs waiting or delayed
 * past their time; then `replace` is called with it (the caller starts a new
 * worker and closes the old). Only idle workers are looked at in Redis: two
 * commands per idle sub-queue per interval.
 */
export function startQueueWatchdog(options: {
  connection: RedisClient;
  prefix: string;
  log: Logger;
  watched: () => Watched[];
  replace: (name: string, worker: Worker, due: number) => void;
  intervalMs?: number;
  stuckMs?: number;
}): { stop(): Promise<void> } {
  const { connection, prefix, log, intervalMs = WATCHDOG.intervalMs, stuckMs = WATCHDOG.stuckMs } = options;
  const seen = new Map<string, Seen>();
  const lookups = new Map<string, Queue>();
  const lookup = (name: string): Queue => {
    let queue = lookups.get(name);
    if (!queue) {
      queue = new Queue(name, { connection, prefix });
      queue.on('error', () => undefined); // its commands' errors are handled where they are awaited
      lookups.set(name, queue);
    }
    return queue;
  };
  const due = async (name: string, now: number): Promise<number> => {
    const queue = lookup(name);
    const [counts, delayed] = await Promise.all([
      queue.getJobCounts('wait', 'prioritized'),
      queue.getDelayedCount(now - DELAYED_GRACE_MS),
    ]);
    return (counts.wait ?? 0) + (counts.prioritized ?? 0) + delayed;
  };

  const look = async () => {
    const now = Date.now();
    for (const w of options.watched()) {
      const before = seen.get(w.name);
      const healthy =
        !before ||
        before.worker !== w.worker ||
        before.started !== w.started ||
        w.running > 0 ||
        w.worker.closing !== undefined ||
        w.worker.isPaused();
      if (healthy) {
        seen.set(w.name, { worker: w.worker, started: w.started });
        continue;
      }
      let waiting: number;
      let timer: NodeJS.Timeout | undefined;
      try {
        // Bounded: while Redis is away a command waits for its return, and stopping must not wait for that.
        const late = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('Redis did not answer in time')), intervalMs);
        });
        waiting = await Promise.race([due(w.name, now), late]);
      } catch (err) {
        // Redis is away or failing over: nothing can be told about the worker now.
        log.debug({ err, subQueue: w.name }, 'the queue watchdog could not count due jobs');
        continue;
      } finally {
        clearTimeout(timer);
      }
      if (waiting === 0) {
        before.stuckSince = undefined;
        continue;
      }
      before.stuckSince ??= now;
      if (now - before.stuckSince < stuckMs) continue;
      seen.delete(w.name);
      log.warn(
        { subQueue: w.name, due: waiting, forMs: now - before.stuckSince },
        "a sub-queue's worker took no job while jobs were due; it is replaced by a new one",
      );
      options.replace(w.name, w.worker, waiting);
    }
  };
  const ticking = every(
    intervalMs,
    () => look().catch((err: unknown) => log.warn({ err }, 'the queue watchdog failed; it will look again')),
    { now: false },
  );
  return {
    async stop() {
      await ticking.stop();
      await Promise.allSettled([...lookups.values()].map((q) => q.close()));
    },
  };
}
