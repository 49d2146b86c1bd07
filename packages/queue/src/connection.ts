import { Queue, type JobType, type QueueOptions } from 'bullmq';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { withoutCredentials, type RedisTarget } from '@leadrouter/config';
import {
  jobIds,
  jobOptions,
  QUEUES,
  type DeliverJob,
  type PingJob,
  type PostbackJob,
  type QueueName,
  type RouteJob,
} from './catalog.js';
import { PingLists } from './ping-lists.js';
import { sendPingReply, type PingReply } from './ping-reply.js';
import { redisKeys, subQueueName } from './layout.js';
import { PartitionedQueue } from './partitioned.js';

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

/** How many sub-queues, and which ones. */
export interface QueueLayout {
  /** QUEUE_PARTITIONS: the same in every process. */
  partitions?: number;
}

/** The producer side of the catalog: typed `enqueue*` helpers over each queue's sub-queues (ADR 0024). */
export class Queues {
  readonly route: PartitionedQueue<RouteJob>;
  readonly deliver: PartitionedQueue<DeliverJob>;
  readonly postback: PartitionedQueue<PostbackJob>;
  /** Sources' pings: plain lists, not BullMQ (ADR 0032, "Pings off BullMQ"). */
  readonly pings: PingLists;
  readonly partitions: number;

  constructor(
    private readonly connection: RedisClient,
    readonly prefix: string,
    { partitions = 1 }: QueueLayout = {},
  ) {
    this.partitions = partitions;
    const queue = <T>(name: QueueName): PartitionedQueue<T> => {
      const options: QueueOptions = { connection, prefix, defaultJobOptions: jobOptions[name] };
      const parts = subQueueNames(name, partitions).map((subQueue) => {
        const part = new Queue<T>(subQueue, options);
        // A Queue re-emits connection errors; they are handled where add() is awaited.
        part.on('error', () => undefined);
        return part;
      });
      return new PartitionedQueue<T>(name, parts);
    };
    this.route = queue<RouteJob>(QUEUES.route);
    this.deliver = queue<DeliverJob>(QUEUES.deliver);
    this.postback = queue<PostbackJob>(QUEUES.postback);
    this.pings = new PingLists(connection, prefix, partitions);
  }

  /** The catalog's BullMQ queues (each counted over its sub-queues). */
  all(): PartitionedQueue<unknown>[] {
    return [this.route, this.deliver, this.postback] as PartitionedQueue<unknown>[];
  }

  /** What the queue depths count (the admin API, the worker's gauge): the BullMQ queues and the pings' lists. */
  counted(): { name: string; getJobCounts(...types: JobType[]): Promise<Record<string, number>> }[] {
    return [...this.all(), this.pings];
  }

  /** The catalog's queue of that name. */
  queue(name: QueueName): PartitionedQueue<unknown> {
    return this.all().find((q) => q.name === name)!;
  }

  /** Every sub-queue, as BullMQ queues (the dashboard shows each). */
  subQueues(): Queue[] {
    return this.all().flatMap((q) => q.parts as Queue[]);
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

  /**
   * Tells every ingest that these leads reached their final status (committed): a request waiting for one of them
   * (`Prefer: wait`, ADR 0033) reads its outcome from PostgreSQL. Plain pub/sub, which reaches every node of a
   * cluster. Sent, not awaited, and never fails the caller: the job does not wait a round trip for it, and a
   * request that misses it still looks in PostgreSQL at its deadline.
   */
  announceOutcomes(leadIds: readonly string[]): void {
    const channel = redisKeys(this.prefix).outcomes;
    for (const id of leadIds) this.connection.publish(channel, id).catch(() => undefined);
  }

  /**
   * Tells the ingest waiting for ping `pingId` its answer, on that ingest's own channel (`PingJob.replyTo`,
   * `PingReplies`); sent, not awaited, like `announceOutcomes`.
   */
  replyToPing(channel: string, pingId: string, reply: PingReply): void {
    sendPingReply(this.connection, channel, pingId, reply);
  }

  /** A source's ping, for the worker's auction (ADR 0032): one `LPUSH` onto a list of the pings' sub-queues. */
  async enqueuePing(job: PingJob): Promise<void> {
    this.ensureConnected();
    await this.pings.push(job);
  }

  async enqueuePostback(job: PostbackJob, delayMs = 0): Promise<void> {
    this.ensureConnected();
    await this.postback.add(QUEUES.postback, job, {
      jobId: jobIds.postback(job.postbackId, job.attempt),
      delay: Math.max(0, Math.round(delayMs)),
    });
  }

  /**
   * Resolves when Redis answers for every key of the queues; rejects when it
   * does not (readiness checks). On a cluster that is the shard of each
   * sub-queue, through the cluster's own routing of its slot, and every other
   * master of the slot map too: the counters of sources, partners and routes
   * live on all of them.
   */
  async ping(): Promise<void> {
    await Promise.all([
      pingEveryShard(this.connection),
      ...this.subQueues().map((q) => this.connection.exists(`${this.prefix}:${q.name}:meta`)),
      ...this.pings.keys.map((key) => this.connection.exists(key)),
    ]);
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((q) => q.close()));
  }
}

/** The BullMQ names of the first `partitions` sub-queues of `queue`. */
export function subQueueNames(queue: QueueName, partitions: number): string[] {
  return Array.from({ length: partitions }, (_, i) => subQueueName(queue, i));
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
