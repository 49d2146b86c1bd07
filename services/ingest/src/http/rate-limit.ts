import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { hashTag, redisKeys, type RedisClient } from '@leadrouter/queue';
import { AppError } from '@leadrouter/core';

/**
 * Per-source limits of `rateLimitPerMinute` leads, counted in Redis so every
 * ingest replica shares them (rate-limiter-flexible). When Redis is away the
 * count falls back to each process's memory (the "insurance" limiter): leads
 * keep being accepted — durability does not depend on Redis, so neither
 * should intake — at a limit that is per replica until Redis returns.
 */
export class SourceRateLimits {
  private readonly limiters = new Map<number, RateLimiterRedis>();

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  private limiter(perMinute: number): RateLimiterRedis {
    let l = this.limiters.get(perMinute);
    if (!l) {
      l = new RateLimiterRedis({
        storeClient: this.redis,
        keyPrefix: redisKeys(this.prefix).rateLimit(perMinute),
        points: perMinute,
        duration: 60,
        insuranceLimiter: new RateLimiterMemory({ points: perMinute, duration: 60 }),
      });
      this.limiters.set(perMinute, l);
    }
    return l;
  }

  /** Takes `leads` from the source's minute; throws a 429 with Retry-After when it has not enough left. */
  async consume(sourceId: string, perMinute: number | null, leads = 1): Promise<void> {
    if (perMinute === null) return;
    if (leads > perMinute) {
      throw new AppError(
        'rate_limited',
        `a batch of ${leads} leads is over the source's limit of ${perMinute}/min`,
        429,
        {
          retryAfterSeconds: 60,
        },
      );
    }
    try {
      // Each source's count under a hash tag of its own: on a Redis Cluster the sources spread over the shards.
      await this.limiter(perMinute).consume(hashTag(sourceId), leads);
    } catch (res) {
      if (res instanceof RateLimiterRes) {
        const retryAfterSeconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
        throw new AppError(
          'rate_limited',
          `over the limit of ${perMinute} leads per minute; retry in ${retryAfterSeconds} s`,
          429,
          { retryAfterSeconds },
        );
      }
      throw res;
    }
  }
}
