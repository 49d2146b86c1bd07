import { Queue, type Worker } from 'bullmq';
import { MAX_QUEUE_PARTITIONS } from '@leadrouter/config';
import { QUEUES, subQueueName, type QueueName, type RedisClient } from '@leadrouter/queue';
import type { WorkerDeps } from './deps.js';

/** A job in one of these states still has to run (or to finish, or be taken over when its worker died). */
const PENDING_STATES = ['wait', 'paused', 'active', 'delayed', 'prioritized'];

/**
 * Sub-queues that are not this layout's but may still hold jobs: those past
 * QUEUE_PARTITIONS (it was lowered) and, on one server, the single queue of
 * each kind from before queues were split (named as the queue itself; its keys
 * share no hash tag, so it never ran on a cluster).
 */
export function leftoverSubQueues(partitions: number, onCluster: boolean): { queue: QueueName; name: string }[] {
  return Object.values(QUEUES).flatMap((queue) => [
    ...(onCluster ? [] : [{ queue, name: queue as string }]),
    ...Array.from({ length: MAX_QUEUE_PARTITIONS - partitions }, (_, i) => ({
      queue,
      name: subQueueName(queue, partitions + i),
    })),
  ]);
}

interface Draining {
  worker: Worker;
  /** For the sweeper's look-ups (`PartitionedQueue.drainFrom`). */
  lookup: Queue;
}

/**
 * Changing the number of sub-queues without losing or repeating a job
 * (ADR 0024): every `intervalMs` (and at start) the worker looks for jobs in
 * the sub-queues of other layouts and consumes each one that has any, with
 * the same processors, until it is empty. Raising QUEUE_PARTITIONS needs none
 * of this (the old sub-queues are the first ones of the new layout); lowering
 * it, or upgrading from the single queues of before, does. While a leftover
 * sub-queue is drained, the sweeper looks for jobs there too, so it does not
 * add a second one.
 */
export function startDraining(
  deps: WorkerDeps,
  connection: RedisClient,
  consumer: { consume(queue: QueueName, name: string): Worker; release(worker: Worker): Promise<void> },
  intervalMs: number,
): { ready: Promise<void>; stop(): Promise<void> } {
  const prefix = deps.config.QUEUE_PREFIX;
  const leftovers = leftoverSubQueues(deps.config.QUEUE_PARTITIONS, deps.config.REDIS_CLUSTER_NODES !== undefined);
  const draining = new Map<string, Draining>();
  let stopped = false;
  let running: Promise<void> | null = null;

  const hasJobs = async (name: string) =>
    (await connection.exists(...PENDING_STATES.map((state) => `${prefix}:${name}:${state}`))) > 0;

  const check = async () => {
    for (const { queue, name } of leftovers) {
      if (stopped) return;
      const pending = await hasJobs(name);
      const current = draining.get(name);
      if (pending && !current) {
        const lookup = new Queue(name, { connection, prefix });
        lookup.on('error', () => undefined);
        draining.set(name, { worker: consumer.consume(queue, name), lookup });
        deps.queues.queue(queue).drainFrom(lookup);
        deps.log.info({ queue, subQueue: name }, 'draining jobs left in a sub-queue of another layout');
      } else if (!pending && current) {
        draining.delete(name);
        deps.queues.queue(queue).stopDraining(current.lookup);
        await Promise.all([consumer.release(current.worker), current.lookup.close()]);
        deps.log.info({ queue, subQueue: name }, 'drained a sub-queue of another layout');
      }
    }
  };
  const tick = () => {
    if (running) return;
    running = check()
      .catch((err: unknown) =>
        deps.log.warn({ err: { message: (err as Error).message } }, 'looking for leftover jobs failed; will try again'),
      )
      .finally(() => (running = null));
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  tick();
  const first = running as Promise<void> | null;
  return {
    /** Settles once the first look has been made (or has failed). */
    ready: first ?? Promise.resolve(),
    /** Stops looking; the draining workers are closed with the others (`workers()`). */
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      await Promise.all([...draining.values()].map(({ lookup }) => lookup.close()));
    },
  };
}
