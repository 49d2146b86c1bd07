import { Queue, type QueueOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { jobIds, jobOptions, QUEUES, type DeliverJob, type PostbackJob, type RouteJob } from './catalog.js';

export interface RedisConnectionOptions {
  url: string;
  /**
   * Producers inside request handlers must fail fast when Redis is away
   * (`enableOfflineQueue: false`) or does not answer (`commandTimeout`: a
   * frozen server, a connection cut without a reset); workers must wait and
   * reconnect (`maxRetriesPerRequest: null`, which BullMQ's Worker requires).
   */
  role: 'producer' | 'worker';
}

/** How long a producer waits for Redis to answer one command (a lead post makes at most two: rate limit, enqueue). */
export const PRODUCER_COMMAND_TIMEOUT_MS = 2000;

export function createRedis({ url, role }: RedisConnectionOptions, extra: RedisOptions = {}): Redis {
  const common: RedisOptions = {
    lazyConnect: false,
    // Reconnect forever, backing off to 2 s: Redis coming back must be noticed by itself.
    retryStrategy: (times) => Math.min(times * 100, 2000),
    ...extra,
  };
  return role === 'producer'
    ? new Redis(url, {
        ...common,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        connectTimeout: 2000,
        commandTimeout: PRODUCER_COMMAND_TIMEOUT_MS,
      })
    : new Redis(url, { ...common, maxRetriesPerRequest: null, enableReadyCheck: false });
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
    private readonly connection: Redis,
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

  /** Resolves when Redis answers; rejects when it does not (readiness checks). */
  async ping(): Promise<void> {
    await this.connection.ping();
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((q) => q.close()));
  }
}
