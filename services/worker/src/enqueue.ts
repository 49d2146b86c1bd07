import type { DeliverJob } from '@leadrouter/queue';
import type { WorkerDeps } from './deps.js';
import type { Followups } from './lead-flow.js';

/**
 * Enqueues what a committed transaction decided. If Redis fails here the
 * deliveries and postbacks stay pending in PostgreSQL and the sweeper
 * enqueues them.
 */
export async function enqueueFollowups(deps: WorkerDeps, next: Followups): Promise<void> {
  await enqueueDeliveries(deps, next.deliveries);
  for (const job of next.postbacks) await deps.queues.enqueuePostback(job);
}

export async function enqueueDeliveries(deps: WorkerDeps, jobs: DeliverJob[], delayMs = 0): Promise<void> {
  // If Redis fails here the deliveries stay pending in PostgreSQL and the sweeper enqueues them.
  for (const job of jobs) await deps.queues.enqueueDelivery(job, delayMs);
}
