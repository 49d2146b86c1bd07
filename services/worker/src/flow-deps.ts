import { exchange, PING_READ_LIMIT_BYTES, send } from '@leadrouter/delivery';
import type { LeadFlowDeps } from '@leadrouter/lifecycle/worker';
import { redisKeys } from '@leadrouter/queue';
import type { WorkerDeps } from './deps.js';
import { PartnerSlots } from './partner-slots.js';

/**
 * What packages/lifecycle's use cases need, from the worker's dependencies:
 * the round-robin counter and the partner slots in Redis, and HTTP sending
 * through packages/delivery with the process's outbound agents.
 */
export function leadFlowDeps(deps: WorkerDeps): LeadFlowDeps {
  const { db, queues, log, now, random, caches, metrics, redis, agents } = deps;
  const prefix = deps.config.QUEUE_PREFIX;
  return {
    db,
    queues,
    log,
    now,
    random,
    ...(caches ? { caches } : {}),
    ...(metrics ? { metrics } : {}),
    ...(deps.pingLog ? { pingLog: deps.pingLog } : {}),
    ...(deps.transactions ? { transactions: deps.transactions } : {}),
    // Round-robin position per route, shared by every worker through one Redis counter.
    nextRotation: async (routeId) => (await redis.incr(redisKeys(prefix).rotation(routeId))) - 1,
    acquirePartnerSlot: (partnerId, limit, timeoutMs) =>
      new PartnerSlots(redis, prefix).tryAcquire(partnerId, limit, timeoutMs),
    send: (request) => send(request, agents),
    ping: (request) => exchange(request, PING_READ_LIMIT_BYTES, agents),
  };
}
