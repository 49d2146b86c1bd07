import { Redis } from 'ioredis';
import type { RedisTarget } from '@leadrouter/config';
import { createRedis } from './connection.js';

/** On a cluster: connection attempts to one node before the subscriber moves on to the next. */
const NODE_ATTEMPTS = 3;
const NODE_RETRY_MS = 200;

/** What a process does with one channel's messages, and when it is (un)subscribed. */
export interface ChannelListener {
  message(message: string): void;
  /** Subscribed (again): what was missed while it was not may have to be looked for. */
  up(): void;
  /** The connection dropped: messages are missed until `up`. */
  down(): void;
}

/**
 * One process's subscription to one Redis pub/sub channel, on a connection of its own (ADR 0009, 0033).
 *
 * On a Redis Cluster a message published on any node reaches every node (plain pub/sub, not sharded), so the
 * subscriber is a plain connection to one of REDIS_CLUSTER_NODES; when that node stops answering it moves on to
 * the next one, saying so (`down`, then `up`). (ioredis' own cluster subscriber changes nodes without a word,
 * which would hide the messages missed in between.)
 */
export class ChannelSubscriber {
  private readonly target: RedisTarget;
  private subscriber!: Redis;
  private subscribed = false;
  private closed = false;
  /** On a cluster: the node of REDIS_CLUSTER_NODES the subscriber uses now. */
  private node = 0;
  private nextNode?: NodeJS.Timeout;

  constructor(
    redis: string | RedisTarget,
    private readonly channel: string,
    private readonly listener: ChannelListener,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {
    this.target = typeof redis === 'string' ? { kind: 'server', url: redis } : redis;
    this.subscribe();
  }

  private subscribe(): void {
    const { target } = this;
    const subscriber =
      target.kind === 'server'
        ? createRedis({ url: target.url, role: 'worker' }, { autoResubscribe: false })
        : new Redis({
            ...target.nodes[this.node % target.nodes.length]!,
            autoResubscribe: false,
            maxRetriesPerRequest: null,
            enableReadyCheck: false,
            retryStrategy: (times) => (times > NODE_ATTEMPTS ? null : NODE_RETRY_MS),
          });
    this.subscriber = subscriber;
    subscriber.on('error', () => undefined);
    subscriber.on('ready', () => {
      subscriber.subscribe(this.channel).then(
        () => {
          this.subscribed = !this.closed;
          if (this.subscribed) this.listener.up();
        },
        (err: Error) => this.onError(err),
      );
    });
    subscriber.on('close', () => {
      this.subscribed = false;
      this.listener.down();
    });
    subscriber.on('message', (_channel: string, message: string) => this.listener.message(message));
    // A cluster node that stopped answering: the next one (a server's connection never ends by itself).
    subscriber.once('end', () => {
      if (this.closed) return;
      this.node++;
      this.nextNode = setTimeout(() => this.subscribe(), NODE_RETRY_MS);
    });
  }

  /** The Redis (host:port) the messages come through now. */
  get subscribedTo(): string {
    return `${this.subscriber.options.host}:${this.subscriber.options.port}`;
  }

  /** Whether messages are received right now. */
  get live(): boolean {
    return this.subscribed;
  }

  close(): void {
    this.closed = true;
    this.subscribed = false;
    clearTimeout(this.nextNode);
    this.subscriber.disconnect();
  }
}
