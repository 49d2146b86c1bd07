import { isIPv4, isIPv6 } from 'node:net';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';

/** More addresses than this held as throttled in one process, and the expired ones are dropped. */
const MAX_BLOCKED = 100_000;
/** Key hashes of sources this process has seen, which a throttled address may still present (a gate, not a proof). */
const MAX_KNOWN_KEYS = 10_000;

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
 * address is throttled until its minute ends: its requests with a missing
 * key or a key this process has not seen belong to a source are answered
 * `429` at once, without a database lookup. Keys this process has seen
 * belong to a source are still looked up, so a real source behind the same
 * address (a NAT, a proxy not declared in TRUST_PROXY) keeps posting.
 */
export class AuthFailureLimits {
  private readonly limiter: RateLimiterAbstract;
  private readonly blocked = new Map<string, number>();
  private known = new Set<string>();

  constructor(
    redis: Redis | undefined,
    prefix: string,
    readonly perMinute: number,
  ) {
    const memory = new RateLimiterMemory({ points: perMinute, duration: 60 });
    this.limiter = redis
      ? new RateLimiterRedis({
          storeClient: redis,
          keyPrefix: `${prefix}:authfail`,
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

  /** Whether `keyHash` belonged to a source when this process last looked it up. */
  knows(keyHash: string): boolean {
    return this.known.has(keyHash);
  }

  /** Notes that `keyHash` belongs to a source. */
  vouch(keyHash: string): void {
    if (this.known.size >= MAX_KNOWN_KEYS) this.known = new Set();
    this.known.add(keyHash);
  }

  /**
   * Counts one request without a valid key from `address`. Resolves to how
   * long the address is now throttled for (ms), or 0 while it is under its limit.
   */
  async fail(address: string): Promise<number> {
    try {
      await this.limiter.consume(address);
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
