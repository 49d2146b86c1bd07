import { ConfigError, loadCliConfig, redisTarget, type CliConfig } from '@leadrouter/config';
import { createDb, type Db } from '@leadrouter/db';
import type { CacheInvalidation, OperationsDeps } from '@leadrouter/lifecycle';
import { clusterNodeProblem, createRedis, invalidationChannel, Queues, type RedisClient } from '@leadrouter/queue';
import { Redis } from 'ioredis';

/** How long the CLI waits for Redis before leaving the enqueueing to the worker's sweeper. */
const REDIS_READY_MS = 3000;

/**
 * The connections a command needs, opened on first use (`dlq list` never
 * touches Redis) and all closed by `close()`, so the process can exit by
 * itself once its output is written.
 */
export class CliContext {
  private cfg?: CliConfig;
  private database?: Db;
  private redis?: RedisClient;
  private producer?: Queues;

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  config(): CliConfig {
    this.cfg ??= loadCliConfig(this.env);
    return this.cfg;
  }

  db(): Db {
    this.database ??= createDb({ databaseUrl: this.config().DATABASE_URL, poolMax: 4, connectionTimeoutMs: 5000 });
    return this.database;
  }

  /**
   * The producer side of the job catalog, once Redis answers. When it does not
   * (within a few seconds), enqueueing fails fast and the operations report
   * those deliveries as `deferred`: the worker's sweeper enqueues them.
   */
  async queues(): Promise<Queues> {
    if (this.producer) return this.producer;
    const config = this.config();
    const redis = createRedis({ target: redisTarget(config), role: 'producer' });
    this.redis = redis;
    redis.on('error', () => undefined);
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, REDIS_READY_MS);
      redis.once('ready', done);
    });
    if (redis instanceof Redis && redis.status === 'ready') {
      const problem = await clusterNodeProblem(redis, config.REDIS_URL).catch(() => undefined);
      if (problem !== undefined) throw new RedisClusterNodeError(problem);
    }
    this.producer = new Queues(redis, config.QUEUE_PREFIX, { partitions: config.QUEUE_PARTITIONS });
    return this.producer;
  }

  /** What @leadrouter/lifecycle needs for commands that enqueue. */
  async operations(): Promise<OperationsDeps> {
    return { db: this.db(), queues: await this.queues() };
  }

  /** Whether a cache invalidation could not be published (Redis away): the services' caches then expire by themselves. */
  invalidationFailed = false;

  /**
   * Tells every service process to drop its cached rows of a topic, as the
   * admin API's writes do (ADR 0009). When Redis does not take the message,
   * `invalidationFailed` is set: the caches expire within seconds anyway.
   */
  async caches(): Promise<CacheInvalidation> {
    await this.queues();
    const redis = this.redis!;
    const channel = invalidationChannel(this.config().QUEUE_PREFIX);
    return {
      invalidate: async (topic) => {
        await redis.publish(channel, topic).catch(() => {
          this.invalidationFailed = true;
        });
      },
    };
  }

  get redisReady(): boolean {
    return this.redis?.status === 'ready';
  }

  async close(): Promise<void> {
    await this.producer?.close().catch(() => undefined);
    this.redis?.disconnect();
    await this.database?.$disconnect().catch(() => undefined);
  }
}

/** REDIS_URL names a node of a Redis Cluster: the command stops with this one line, as for a bad setting. */
export class RedisClusterNodeError extends ConfigError {
  override readonly name = 'RedisClusterNodeError';
}
