import { isIPv4, isIPv6 } from 'node:net';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { hashTag, redisKeys, type RedisClient } from '@leadrouter/queue';

/** More addresses than this held as throttled in one process, and the expired ones are dropped. */
const MAX_BLOCKED = 100_000;
/** How old the list of the sources' key hashes may be when a throttled address presents a key. */
export const KEY_LIST_MAX_AGE_MS = 10_000;

/**
 * The address a limit applies to: an IPv4 address, or the /64 network of an
 * IPv6 one (a single host usually holds a whole /64 and can pick any address
 * in it, so counting single IPv6 addresses would throttle nobody).
 */
export function clientKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIPv4(address) || !isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, '').toLowerCase())
    .join(':')}::/64`;
}

/**
 * Throttles requests with a missing or unknown key, per client address
 * (ADR 0014): `perMinute` of them in a minute, counted in Redis so every
 * ingest replica shares the count (rate-limiter-flexible, as the sources'
 * limits; in each process's memory while Redis is away). Past that, the
 * address is throttled until its minute ends: a request from it without a
 * key, or with a key that is none of the sources' (checked against a list
 * of their key hashes at most 10 s old, in memory), is answered `429` at
 * once, without a database lookup. A source's key is still looked up as
 * usual, so a real source behind the same address (a NAT, a proxy not
 * declared in TRUST_PROXY) keeps posting.
 */
export class AuthFailureLimits {
  private readonly limiter: RateLimiterAbstract;
  private readonly blocked = new Map<string, number>();
  private keys?: { hashes: Set<string>; at: number };
  private loading?: Promise<unknown>;

  constructor(
    redis: RedisClient | undefined,
    prefix: string,
    readonly perMinute: number,
  ) {
    const memory = new RateLimiterMemory({ points: perMinute, duration: 60 });
    this.limiter = redis
      ? new RateLimiterRedis({
          storeClient: redis,
          keyPrefix: redisKeys(prefix).authFailures,
          points: perMinute,
          duration: 60,
          insuranceLimiter: memory,
        })
      : memory;
  }

  /** How long `address` is still throttled, as far as this process knows (no Redis call); 0 when it is not. */
  throttledFor(address: string, now = Date.now()): number {
    const until = this.blocked.get(address);
    if (until === undefined) return 0;
    if (until > now) return until - now;
    this.blocked.delete(address);
    return 0;
  }

  /**
   * Whether `keyHash` is one of the sources' key hashes, as `load` (all of
   * them, e.g. of the active sources) said at most KEY_LIST_MAX_AGE_MS ago:
   * a gate before the lookup for throttled addresses, not an answer (a key
   * of a source revoked meanwhile is still refused by the lookup). `load`
   * runs only when the list is needed and old, once at a time; when it fails
   * the answer is no.
   */
  async mayBeSourceKey(keyHash: string, load: () => Promise<string[]>): Promise<boolean> {
    if (!this.keys || Date.now() - this.keys.at > KEY_LIST_MAX_AGE_MS) {
      this.loading ??= load()
        .then((hashes) => (this.keys = { hashes: new Set(hashes), at: Date.now() }))
        .finally(() => (this.loading = undefined));
      try {
        await this.loading;
      } catch {
        return false;
      }
    }
    return this.keys?.hashes.has(keyHash) ?? false;
  }

  /**
   * Counts one request without a valid key from `address`. Resolves to how
   * long the address is now throttled for (ms), or 0 while it is under its limit.
   */
  async fail(address: string): Promise<number> {
    try {
      await this.limiter.consume(hashTag(address));
      return 0;
    } catch (res) {
      // Not a verdict (the insurance limiter covers Redis being away): fail open, as the sources' limits do.
      if (!(res instanceof RateLimiterRes)) return 0;
      const ms = Math.max(1, res.msBeforeNext);
      this.block(address, Date.now() + ms);
      return ms;
    }
  }

  private block(address: string, until: number): void {
    if (this.blocked.size >= MAX_BLOCKED) {
      const now = Date.now();
      for (const [a, u] of this.blocked) if (u <= now) this.blocked.delete(a);
      if (this.blocked.size >= MAX_BLOCKED) this.blocked.clear();
    }
    this.blocked.set(address, until);
  }
}
