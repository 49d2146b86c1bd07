import type { RedisClient } from './connection.js';
import { redisKeys } from './layout.js';

/** A ping's answer as its binding holds it (ADR 0032). */
export interface PingState<T> {
  status: 'bid' | 'no_bid';
  /** Epoch ms after which a post against it is `ping_expired`. */
  expiresAt: number;
  /** What the worker bound to it: its values, bids, the source's bid (`T`, JSON). */
  binding: T;
}

/** What a post against a ping found: the binding it claimed for its lead, or why not. */
export type PingClaim<T> =
  | { outcome: 'claimed'; binding: T }
  | { outcome: 'duplicate'; leadId: string }
  | { outcome: 'unknown' | 'foreign' | 'no_bid' | 'expired' };

/** How long a binding is kept after its expiry, so a late post is told `ping_expired` rather than "unknown". */
export function keptUntil(receivedAt: number, expiresAt: number): number {
  return expiresAt + Math.max(expiresAt - receivedAt, 60_000);
}

// A binding is one hash, under the ping's own hash tag (one slot, whichever the cluster): `source`, `exp`
// (epoch ms), `status`, `b` (the binding, JSON) and, once a lead was posted against it, `lead`.

/** Writes the binding unless one is there already (the worker's answer, or the ingest's no bid at its deadline). */
const SETTLE = `if redis.call('HSETNX', KEYS[1], 'source', ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'exp', ARGV[2], 'status', ARGV[3], 'b', ARGV[4])
redis.call('PEXPIREAT', KEYS[1], ARGV[5])
return 1`;

/** Claims the binding for a lead (ARGV: source, now, lead id), atomically: one lead per ping, on any replica. */
const CLAIM = `local h = redis.call('HMGET', KEYS[1], 'source', 'exp', 'status', 'lead', 'b')
if not h[1] then return {'unknown'} end
if h[1] ~= ARGV[1] then return {'foreign'} end
if h[4] then return {'duplicate', h[4]} end
if h[3] ~= 'bid' then return {'no_bid'} end
if tonumber(ARGV[2]) >= tonumber(h[2]) then return {'expired'} end
redis.call('HSET', KEYS[1], 'lead', ARGV[3])
return {'claimed', h[5]}`;

/** Gives a claim back (the lead was not recorded after all), if it is still this lead's. */
const RELEASE = `if redis.call('HGET', KEYS[1], 'lead') == ARGV[1] then return redis.call('HDEL', KEYS[1], 'lead') end
return 0`;

/**
 * Pings' bindings in Redis (README "Ping/post", ADR 0032): what a ping was answered, its bids and its expiry,
 * kept where it expires by itself (no durable row per ping: pings may be 10–100 times the leads). The worker
 * settles it, the ingest reads it for the answer and claims it for the post; every step is one atomic script on
 * the ping's own key, so it holds across ingest replicas and on a Redis Cluster.
 */
export class PingBindings<T> {
  private readonly key: (pingId: string) => string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.key = redisKeys(prefix).ping;
  }

  /**
   * Binds the ping's answer unless it has one already: true when this call's answer is the one bound (a worker
   * that finishes after the ingest answered no bid at its deadline binds nothing).
   */
  async settle(pingId: string, sourceId: string, state: PingState<T>, keepUntil: number): Promise<boolean> {
    const args = [sourceId, String(state.expiresAt), state.status, JSON.stringify(state.binding), String(keepUntil)];
    return (await this.redis.eval(SETTLE, 1, this.key(pingId), ...args)) === 1;
  }

  /** The ping's answer, if it has one. */
  async read(pingId: string): Promise<PingState<T> | undefined> {
    const [status, exp, binding] = await this.redis.hmget(this.key(pingId), 'status', 'exp', 'b');
    if ((status !== 'bid' && status !== 'no_bid') || !exp || !binding) return undefined;
    return { status, expiresAt: Number(exp), binding: JSON.parse(binding) as T };
  }

  /** Claims the ping for lead `leadId` of `sourceId` at `now` (epoch ms). */
  async claim(pingId: string, sourceId: string, now: number, leadId: string): Promise<PingClaim<T>> {
    const [outcome, value] = (await this.redis.eval(CLAIM, 1, this.key(pingId), sourceId, String(now), leadId)) as [
      string,
      string | undefined,
    ];
    switch (outcome) {
      case 'claimed':
        return { outcome, binding: JSON.parse(value!) as T };
      case 'duplicate':
        return { outcome, leadId: value! };
      case 'unknown':
      case 'foreign':
      case 'no_bid':
      case 'expired':
        return { outcome };
      default:
        throw new Error(`unexpected answer from the ping claim: ${outcome}`);
    }
  }

  /** Gives lead `leadId`'s claim back, so the ping can be posted again (its lead was not recorded). */
  async release(pingId: string, leadId: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.key(pingId), leadId);
  }
}
