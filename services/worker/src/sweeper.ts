import { sweep } from '@leadrouter/lifecycle/worker';
import { redisKeys } from '@leadrouter/queue';
import type { WorkerDeps } from './deps.js';
import { every } from './every.js';

/**
 * Runs `sweep` every interval on whichever worker holds the lock; the others
 * skip that round. The lock expires by itself if its holder dies.
 */
export function startSweeper(deps: WorkerDeps, intervalMs: number): { stop(): Promise<void> } {
  const lockKey = redisKeys(deps.config.QUEUE_PREFIX).sweeperLock;
  return every(intervalMs, async () => {
    try {
      const got = await deps.redis.set(lockKey, '1', 'PX', Math.max(intervalMs - 50, 100), 'NX');
      if (got !== 'OK') return;
      const r = await sweep(deps);
      deps.metrics?.sweeperRuns.inc();
      deps.metrics?.sweeperRequeued.inc({ kind: 'lead' }, r.leads);
      deps.metrics?.sweeperRequeued.inc({ kind: 'delivery' }, r.deliveries);
      deps.metrics?.sweeperRequeued.inc({ kind: 'advance' }, r.advanced);
      deps.metrics?.sweeperRequeued.inc({ kind: 'postback' }, r.postbacks);
      if (r.leads + r.deliveries + r.advanced + r.postbacks > 0) deps.log.info(r, 'sweeper requeued work');
    } catch (err) {
      deps.log.warn({ err }, 'sweep failed; will try again');
    }
  });
}
