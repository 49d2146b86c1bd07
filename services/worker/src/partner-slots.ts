import { Semaphore } from 'redis-semaphore';
import { redisKeys, type RedisClient } from '@leadrouter/queue';

/** Requests in flight to one partner across every worker, when the partner sets no `concurrency`. */
export const DEFAULT_PARTNER_CONCURRENCY = 32;

/**
 * Per-partner concurrency across all workers (a Redis semaphore from
 * redis-semaphore): a slow or hanging partner holds at most its own slots,
 * never every worker slot, so deliveries to other partners go on. A slot
 * expires by itself after the request's timeout (plus a margin), so a worker
 * killed mid-request does not leak it.
 */
export class PartnerSlots {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  /** A release function when a slot was free, null when the partner is at its limit. */
  async tryAcquire(
    partnerId: string,
    limit: number | null,
    requestTimeoutMs: number,
  ): Promise<(() => Promise<void>) | null> {
    const semaphore = new Semaphore(
      this.redis,
      redisKeys(this.prefix).partnerSlots(partnerId),
      limit ?? DEFAULT_PARTNER_CONCURRENCY,
      {
        lockTimeout: requestTimeoutMs + 5_000,
        acquireAttemptsLimit: 1,
        refreshInterval: 0,
      },
    );
    if (!(await semaphore.tryAcquire())) return null;
    return () => semaphore.release();
  }
}
