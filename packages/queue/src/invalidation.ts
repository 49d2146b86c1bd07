import type { RedisTarget } from '@leadrouter/config';
import type { RedisClient } from './connection.js';
import { redisKeys } from './layout.js';
import { ChannelSubscriber } from './subscriber.js';

const PUBLISH_TIMEOUT_MS = 2_000;

/** What changed: source keys and settings, or the routing rules (routes and partners, their feedback keys too). */
export type CacheTopic = 'sources' | 'rules';

/** The Redis channel on which a write tells every process to drop its cache of a topic. */
export const invalidationChannel = (prefix: string): string => redisKeys(prefix).invalidation;

/**
 * In-process caches of rarely-written rows (source keys, routing rules) that
 * every replica drops the moment any replica writes them (ADR 0009).
 *
 * - A write calls `invalidate(topic)` after its commit and before answering:
 *   this process's caches are cleared at once, and a message on the
 *   `<prefix>:invalidate` Redis channel clears every other replica's.
 * - Each process listens on that channel with a connection of its own. The
 *   caches are used only while it is subscribed: when the connection drops
 *   (Redis away, a network split) every read goes to PostgreSQL again, and
 *   the caches start empty once it is back, so a message missed meanwhile
 *   cannot leave a stale entry.
 * - On a Redis Cluster the subscriber moves from node to node
 *   (`ChannelSubscriber`), through the same drop and clear.
 * - Entries also expire after `ttlMs`, a safety net for what pub/sub cannot
 *   see (a write by another tool straight into PostgreSQL).
 */
export class SharedCaches {
  private readonly channel: string;
  private readonly subscription: ChannelSubscriber;
  /** Each topic's caches, by name (a topic may have several: the ingest's partners by feedback key, and the rules). */
  private readonly caches = new Map<CacheTopic, Map<string, LocalCache<unknown, unknown>>>();

  constructor(
    private readonly publisher: RedisClient,
    /** Where to subscribe: the processes' Redis (a REDIS_URL, or `redisTarget(config)`). */
    redis: string | RedisTarget,
    prefix: string,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {
    this.channel = invalidationChannel(prefix);
    this.subscription = new ChannelSubscriber(
      redis,
      this.channel,
      {
        message: (topic) => this.clearTopic(topic as CacheTopic),
        up: () => this.clearAll(),
        down: () => this.clearAll(),
      },
      onError,
    );
  }

  /** The Redis (host:port) the invalidations come through now. */
  get subscribedTo(): string {
    return this.subscription.subscribedTo;
  }

  /** Whether caching is on right now (subscribed to invalidations). */
  get live(): boolean {
    return this.subscription.live;
  }

  /**
   * The cache `name` of `topic` (one per topic, name and process; the name defaults to the topic's), dropped with
   * every other cache of its topic.
   */
  cache<K, V>(topic: CacheTopic, ttlMs: number, name: string = topic): LocalCache<K, V> {
    let named = this.caches.get(topic);
    if (!named) this.caches.set(topic, (named = new Map<string, LocalCache<unknown, unknown>>()));
    let cache = named.get(name);
    if (!cache) {
      cache = new LocalCache<unknown, unknown>(() => this.live, ttlMs);
      named.set(name, cache);
    }
    return cache as LocalCache<K, V>;
  }

  /**
   * Drops `topic` here and on every replica. Call it after the write has
   * committed, and before answering. A failure to publish is reported, not
   * thrown: the write stands, and a replica that cannot be told is one that
   * has lost Redis too, which turns its caches off.
   */
  async invalidate(topic: CacheTopic): Promise<void> {
    this.clearTopic(topic);
    let timer: NodeJS.Timeout | undefined;
    // A connection that queues commands while Redis is away would wait for it: give up after a while.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('Redis did not take the invalidation in time')), PUBLISH_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.publisher.publish(this.channel, topic), timeout]);
    } catch (err) {
      this.onError(err as Error);
    } finally {
      clearTimeout(timer);
    }
  }

  private clearTopic(topic: CacheTopic): void {
    for (const cache of this.caches.get(topic)?.values() ?? []) cache.clear();
  }

  private clearAll(): void {
    for (const topic of this.caches.keys()) this.clearTopic(topic);
  }

  close(): void {
    this.subscription.close();
  }
}

interface Entry<V> {
  value: Promise<V>;
  expiresAt: number;
}

/**
 * A map of loaded values with a time to live. Concurrent reads of a missing
 * key share one load; a load that was running when the cache was cleared is
 * not stored (it may have read the old rows).
 */
export class LocalCache<K, V> {
  private entries = new Map<K, Entry<V>>();
  private generation = 0;

  /** More entries than this and the cache starts over (keys are bounded in practice: sources, one rules set). */
  static readonly MAX_ENTRIES = 10_000;

  constructor(
    private readonly enabled: () => boolean,
    private readonly ttlMs: number,
  ) {}

  /** The cached value for `key`, or `load()`'s (cached unless `keep` says no, e.g. for a miss). */
  get(key: K, load: () => Promise<V>, keep: (value: V) => boolean = () => true): Promise<V> {
    if (!this.enabled()) return load();
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > now) return hit.value;
    const generation = this.generation;
    const value = load();
    if (this.entries.size >= LocalCache.MAX_ENTRIES) this.entries.clear();
    const entry: Entry<V> = { value, expiresAt: now + this.ttlMs };
    this.entries.set(key, entry);
    value.then(
      (v) => {
        if (!keep(v) || generation !== this.generation) this.drop(key, entry);
      },
      () => this.drop(key, entry),
    );
    return value;
  }

  clear(): void {
    this.generation++;
    this.entries = new Map();
  }

  private drop(key: K, entry: Entry<V>): void {
    if (this.entries.get(key) === entry) this.entries.delete(key);
  }
}
