import { PING_QUEUE, type PingJob } from './catalog.js';
import { subQueueName } from './layout.js';

/** What the lists are pushed and counted through: a connection of `createRedis` (this file is imported by it). */
interface ListCommands {
  lpush(key: string, value: string): Promise<number>;
  llen(key: string): Promise<number>;
}

/**
 * The Redis list of ping sub-queue `index`: under the hash tag the `ping` sub-queue has always had (ADR 0024's
 * layout, unchanged), so on a cluster the lists spread over the masters as the sub-queues did.
 */
export function pingListKey(prefix: string, index: number): string {
  return `${prefix}:${subQueueName(PING_QUEUE, index)}:list`;
}

/**
 * Sources' pings waiting for a worker (ADR 0032, "Pings off BullMQ"): a plain list per hash-tagged sub-queue. The
 * ingest pushes (`LPUSH`, one command), a worker pops them in batches (`PingConsumer`). A ping needs none of a
 * BullMQ job's guarantees — one attempt, no retry, nothing kept, worthless after its deadline — so it pays for
 * none of them (its events stream, job hash, lock, markers: most of the ~43 Redis commands a ping cost).
 */
export class PingLists {
  readonly name = PING_QUEUE;
  readonly keys: string[];
  private next = 0;

  constructor(
    private readonly redis: ListCommands,
    prefix: string,
    partitions: number,
  ) {
    this.keys = Array.from({ length: partitions }, (_, i) => pingListKey(prefix, i));
  }

  /** Adds a ping to the next list in turn (nothing needs a ping in a given list: its id is never looked up). */
  async push(job: PingJob): Promise<void> {
    const key = this.keys[this.next++ % this.keys.length]!;
    if (this.next >= this.keys.length) this.next = 0;
    await this.redis.lpush(key, JSON.stringify(job));
  }

  /**
   * Pings waiting, as the queues' depths are counted (`waiting`): every other state asked for is 0 — a ping is
   * never delayed, a failed one is not kept, and one being auctioned is in no list (it is in its worker only).
   */
  async getJobCounts(...types: string[]): Promise<Record<string, number>> {
    const lengths = await Promise.all(this.keys.map((key) => this.redis.llen(key)));
    const waiting = lengths.reduce((a, b) => a + b, 0);
    return Object.fromEntries(types.map((t) => [t, t === 'waiting' || t === 'wait' ? waiting : 0]));
  }
}
