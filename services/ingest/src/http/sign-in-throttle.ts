import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { hashTag, redisKeys, type RedisClient } from '@leadrouter/queue';
import { AppError } from '@leadrouter/core';

/** Wrong admin tokens a client address may present at sign-in in a window before it must wait. */
export const SIGN_IN_FAILURES = 10;
export const SIGN_IN_WINDOW_SECONDS = 15 * 60;

/**
 * Failed console sign-ins per client address (`req.ip`, which follows the
 * app's `trust proxy` setting): after SIGN_IN_FAILURES wrong tokens in
 * SIGN_IN_WINDOW_SECONDS, every sign-in from that address is answered 429
 * with Retry-After until the window has passed, right token or not, so the
 * admin token cannot be guessed through the sign-in form. Counted in Redis
 * so all ingest replicas share the count; in memory per process while Redis
 * is away (or when no Redis is given: tests of the app alone).
 */
export class SignInThrottle {
  private readonly limiter: RateLimiterAbstract;

  constructor(redis?: RedisClient, prefix = 'leadrouter') {
    const opts = { points: SIGN_IN_FAILURES, duration: SIGN_IN_WINDOW_SECONDS };
    this.limiter = redis
      ? new RateLimiterRedis({
          storeClient: redis,
          keyPrefix: redisKeys(prefix).signIn,
          ...opts,
          insuranceLimiter: new RateLimiterMemory(opts),
        })
      : new RateLimiterMemory(opts);
  }

  /** Throws a 429 when the address has used up its failures. */
  async check(address: string): Promise<void> {
    const res = await this.limiter.get(hashTag(address));
    if (res && res.consumedPoints >= SIGN_IN_FAILURES) throw tooMany(res);
  }

  /** Counts one failure; throws a 429 when that was one too many. */
  async failed(address: string): Promise<void> {
    try {
      await this.limiter.consume(hashTag(address));
    } catch (res) {
      if (res instanceof RateLimiterRes) throw tooMany(res);
      throw res;
    }
  }
}

function tooMany(res: RateLimiterRes): AppError {
  const retryAfterSeconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  return new AppError(
    'rate_limited',
    `too many wrong admin tokens from this address; try again in ${Math.ceil(retryAfterSeconds / 60)} min`,
    429,
    { retryAfterSeconds },
  );
}
