import { Queue, type QueueOptions } from 'bullmq';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { withoutCredentials, type RedisTarget } from '@leadrouter/config';
import { jobIds, jobOptions, QUEUES, type DeliverJob, type PostbackJob, type RouteJob } from './catalog.js';

/** A connection to one Redis server or to a Redis Cluster: what every Redis user here takes. */
export type RedisClient = Redis | Cluster;

export type RedisConnectionOptions = (
  | { url: string }
  | {
      /** One server or a cluster (`redisTarget(config)`). */
      target: RedisTarget;
    }
) & {
  /**
   * Producers inside request handlers must fail fast when Redis is away
   * (`enableOfflineQueue: false`) or does not answer (`commandTimeout`: a
   * frozen server, a connection cut without a reset); workers must wait and
   * reconnect (`maxRetriesPerRequest: null`, which BullMQ's Worker requires).
   */
  role: 'producer' | 'worker';
};

/** How long a producer waits for Redis to answer one command (a lead post makes at most two: rate limit, enqueue). */
export const PRODUCER_COMMAND_TIMEOUT_MS = 2000;

/**
 * How long a worker's command keeps being retried while its shard of a Redis
 * Cluster has no master (a failover), in steps of FAILOVER_RETRY_MS: a
 * failover takes the cluster's `cluster-node-timeout` (15 s by default) and a
 * few seconds more. Past that the command fails and its job is retried.
 */
const FAILOVER_PATIENCE_MS = 30_000;
const FAILOVER_RETRY_MS = 200;

/** Reconnect forever, backing off to 2 s: Redis coming back must be noticed by itself. */
const reconnect = (times: number) => Math.min(times * 100, 2000);

export function createRedis(options: RedisConnectionOptions & { url: string }, extra?: RedisOptions): Redis;
export function createRedis(options: RedisConnectionOptions, extra?: RedisOptions): RedisClient;
export function createRedis(options: RedisConnectionOptions, extra: RedisOptions = {}): RedisClient {
  const target: RedisTarget = 'url' in options ? { kind: 'server', url: options.url } : options.target;
  const producer = options.role === 'producer';
  const common: RedisOptions = { lazyConnect: false, retryStrategy: reconnect, ...extra };
  const perRole: RedisOptions = producer
    ? { maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: PRODUCER_COMMAND_TIMEOUT_MS }
    : { maxRetriesPerRequest: null };
  if (target.kind === 'server') {
    return producer
      ? new Redis(target.url, { ...common, ...perRole, enableOfflineQueue: false })
      : new Redis(target.url, { ...common, ...perRole, enableReadyCheck: false });
  }
  // The cluster's own connections to its nodes do not reconnect: when one closes, the cluster refreshes its
  // slots and connects to whichever node serves them now; the cluster as a whole reconnects like a server.
  const { retryStrategy: _perNode, lazyConnect, ...nodeOptions } = common;
  const cluster: ClusterOptions = {
    lazyConnect,
    clusterRetryStrategy: reconnect,
    redisOptions: { ...nodeOptions, ...perRole },
    ...(producer
      ? // A command whose shard is being failed over fails within about a second, like one to a server that is away.
        { enableOfflineQueue: false }
      : {
          retryDelayOnFailover: FAILOVER_RETRY_MS,
          retryDelayOnClusterDown: FAILOVER_RETRY_MS,
          // Each wait for a failover costs a redirection or two (MOVED to the old master, then its closed connection).
          maxRedirections: Math.ceil((2 * FAILOVER_PATIENCE_MS) / FAILOVER_RETRY_MS),
        }),
  };
  return new Cluster(target.nodes, cluster);
}

/**
 * Why the server a REDIS_URL connection reached cannot be used, or nothing:
 * it is a node of a Redis Cluster (`cluster_enabled:1`). Through one node a
 * process would see only that node's slots: commands for the others are
 * answered MOVED, and it would not follow a failover.
 */
export async function clusterNodeProblem(redis: Redis, url: string): Promise<string | undefined> {
  const info = await redis.info('cluster');
  if (!/^cluster_enabled:1\b/m.test(info)) return undefined;
  const shown = withoutCredentials(url) ?? 'REDIS_URL';
  return `REDIS_URL=${JSON.stringify(shown)} is a node of a Redis Cluster: set REDIS_CLUSTER_NODES=host:port,host:port,… to the cluster's nodes instead (REDIS_URL is for one Redis server)`;
}

/** How long a process waits at start for its first answer from Redis before it goes on without it. */
const FIRST_CHECK_MS = 2_000;

/**
 * Checks every time `redis` (a REDIS_URL connection) becomes ready whether it
 * reached a cluster node, and calls `refuse` with the one line to print if so
 * (the process then stops). Resolves once the first connection attempt has
 * been checked, or has failed, or after FIRST_CHECK_MS: a process awaits it
 * before it starts, so a cluster node is refused before anything runs, and
 * one started while Redis is away is checked once Redis answers.
 */
export function refuseClusterNode(redis: RedisClient, url: string, refuse: (line: string) => void): Promise<void> {
  if (redis instanceof Cluster) return Promise.resolve();
  let checked: Promise<void> | undefined;
  const check = () => {
    checked = clusterNodeProblem(redis, url).then(
      (problem) => {
        if (problem !== undefined) refuse(problem);
      },
      () => undefined, // Redis went away again: checked on the next 'ready'.
    );
  };
  redis.on('ready', check);
  if (redis.status === 'ready') check();
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', ready);
      redis.off('error', done);
      resolve();
    };
    const ready = () => void checked?.then(done);
    const timer = setTimeout(done, FIRST_CHECK_MS);
    if (checked) void checked.then(done);
    else {
      redis.once('ready', ready);
      redis.once('error', done);
    }
  });
}

/** Adding a job was refused because Redis is not connected (a fail-fast producer's connection). */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}

/** The producer side of the catalog: typed `enqueue*` helpers over BullMQ queues. */
export class Queues {
  readonly route: Queue<RouteJob>;
  readonly deliver: Queue<DeliverJob>;
  readonly postback: Queue<PostbackJob>;

  constructor(
    private readonly connection: RedisClient,
    prefix: string,
  ) {
    const opts = (name: keyof typeof jobOptions): QueueOptions => ({
      connection,
      prefix,
      defaultJobOptions: jobOptions[name],
    });
    this.route = new Queue<RouteJob>(QUEUES.route, opts('route'));
    this.deliver = new Queue<DeliverJob>(QUEUES.deliver, opts('deliver'));
    this.postback = new Queue<PostbackJob>(QUEUES.postback, opts('postback'));
    // A Queue re-emits connection errors; they are handled where add() is awaited.
    for (const q of this.all()) q.on('error', () => undefined);
  }

  all(): Queue[] {
    return [this.route, this.deliver, this.postback] as Queue[];
  }

  /**
   * Whether adding jobs fails at once while Redis is not connected: so for a
   * producer's connection (`enableOfflineQueue: false`). A command on it is
   * refused while Redis is away, but a BullMQ queue first waits for the
   * connection's first 'ready', however long that takes: a process started
   * while Redis was unreachable would hold every enqueue (and the request
   * waiting for it) until Redis came up.
   */
  private get failsFast(): boolean {
    return this.connection.options.enableOfflineQueue === false;
  }

  /** Whether the connection is up now (commands are sent, not refused or kept). */
  get connected(): boolean {
    return this.connection.status === 'ready';
  }

  private ensureConnected(): void {
    if (this.failsFast && !this.connected) {
      throw new RedisUnavailableError(`Redis is not connected (${this.connection.status})`);
    }
  }

  async enqueueRoute(leadIds: string[]): Promise<void> {
    if (leadIds.length === 0) return;
    this.ensureConnected();
    await this.route.addBulk(
      leadIds.map((leadId) => ({ name: QUEUES.route, data: { leadId }, opts: { jobId: jobIds.route(leadId) } })),
    );
  }

  async enqueueDelivery(job: DeliverJob, delayMs = 0): Promise<void> {
    this.ensureConnected();
    await this.deliver.add(QUEUES.deliver, job, {
      jobId: jobIds.deliver(job.deliveryId, job.attempt),
      delay: Math.max(0, Math.round(delayMs)),
    });
  }

  async enqueuePostback(job: PostbackJob, delayMs = 0): Promise<void> {
    this.ensureConnected();
    await this.postback.add(QUEUES.postback, job, {
      jobId: jobIds.postback(job.postbackId, job.attempt),
      delay: Math.max(0, Math.round(delayMs)),
    });
  }

  /**
   * Resolves when Redis answers; rejects when it does not (readiness checks).
   * On a cluster, every master of the slot map must answer: the keys live on
   * all of them.
   */
  async ping(): Promise<void> {
    await pingEveryShard(this.connection);
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((q) => q.close()));
  }
}

/** PING on a server; on a cluster, PING on each master its slot map names (one missing from its pool fails). */
export async function pingEveryShard(redis: RedisClient): Promise<void> {
  if (!(redis instanceof Cluster)) {
    await redis.ping();
    return;
  }
  if (redis.status !== 'ready') throw new Error(`the cluster is not connected (${redis.status})`);
  const connected = new Map(redis.nodes('master').map((node) => [`${node.options.host}:${node.options.port}`, node]));
  const masters = new Set(redis.slots.map((owners) => owners[0]).filter((key) => key !== undefined));
  if (masters.size === 0) throw new Error('the cluster has no slot map yet');
  await Promise.all(
    [...masters].map(async (key) => {
      const node = connected.get(key);
      if (!node) throw new Error(`no connection to the master ${key}`);
      await node.ping();
    }),
  );
}
