import type { RedisTarget } from '@leadrouter/config';
import type { PingJob } from './catalog.js';
import { createRedis, type RedisClient } from './connection.js';
import { pingListKey } from './ping-lists.js';

/** What a consumer logs with. */
interface ConsumerLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface PingConsumerOptions {
  target: RedisTarget;
  prefix: string;
  /** QUEUE_PARTITIONS: one list, and one blocking connection, each. */
  partitions: number;
  /** Pings of one list answered at once at most (PING_CONCURRENCY). */
  concurrency: number;
  /** Answers one ping; a rejection is logged (the ping is not retried: the ingest answers no bid at its deadline). */
  handle(job: PingJob, list: string): Promise<unknown>;
  log: ConsumerLog;
  /** How long one blocking pop waits for a ping (s): a stopping worker notices within about that. */
  blockSeconds?: number;
}

/** Pings taken by one pop at most. */
const BATCH = 64;
/** A pop that has not returned this long after its own timeout is given up on: the connection is made anew. */
const POP_WATCHDOG_MS = 5_000;
/** After a failed pop, the wait before the next one. */
const RETRY_MS = 500;
/** At most one warning this often per list while its pops keep failing. */
const WARN_EVERY_MS = 30_000;

/**
 * Takes pings from every list of this layout and answers them, up to `concurrency` at once per list (ADR 0032,
 * "Pings off BullMQ"). Each list has a blocking connection of its own (as each BullMQ worker had: a blocking
 * command holds its connection, and on a cluster each list's key is on its own master) that pops up to the free
 * capacity at once (`BLMPOP … COUNT n`): under load one command brings a batch.
 *
 * A pop is atomic, so with several workers on the same lists each ping is taken, and answered, once. A worker
 * that dies with pings taken loses them: they are answered no bid by the ingest at its deadline, which is all a
 * retry after the deadline could have done. While Redis is away a pop waits (the connection reconnects by
 * itself); one that neither returns nor fails in time (a cluster client whose pool emptied, or left
 * `disconnecting` after a failover: bullmq#4138's shapes, ADR 0024) is given up on and the connection made anew, as
 * is one closed for good.
 */
export class PingConsumer {
  private stopping = false;
  private readonly inFlight: number[];
  private readonly slotFreed: ((() => void) | undefined)[] = [];
  private readonly clients: RedisClient[] = [];
  private readonly loops: Promise<void>[];
  private readonly blockSeconds: number;

  constructor(private readonly options: PingConsumerOptions) {
    this.blockSeconds = options.blockSeconds ?? 1;
    this.inFlight = Array<number>(options.partitions).fill(0);
    this.loops = Array.from({ length: options.partitions }, (_, i) => this.consume(i));
  }

  /** Pings being answered now, over every list. */
  get running(): number {
    return this.inFlight.reduce((a, b) => a + b, 0);
  }

  private connect(index: number): RedisClient {
    const client = createRedis({ target: this.options.target, role: 'worker' });
    client.on('error', () => undefined);
    this.clients[index] = client;
    return client;
  }

  private async consume(index: number): Promise<void> {
    const key = pingListKey(this.options.prefix, index);
    const { concurrency, log } = this.options;
    let client = this.connect(index);
    let lastWarning = 0;
    let failing = false;
    while (!this.stopping) {
      const free = concurrency - this.inFlight[index]!;
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.slotFreed[index] = resolve));
        continue;
      }
      let popped: [string, string[]] | null;
      try {
        popped = await this.pop(client, key, Math.min(free, BATCH));
      } catch (err) {
        if (this.stopping) break;
        // Stuck, or closed for good (it would refuse every pop): a new connection.
        if (err instanceof PopStuck || client.status === 'end') {
          try {
            client.disconnect();
          } catch {
            // A client in a state its own disconnect() fails in is let go all the same.
          }
          client = this.connect(index);
        }
        if (Date.now() - lastWarning >= WARN_EVERY_MS) {
          lastWarning = Date.now();
          log.warn({ err: { message: (err as Error).message }, list: key }, 'could not take pings from their list');
        }
        failing = true;
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        continue;
      }
      if (failing) {
        failing = false;
        lastWarning = 0;
        log.warn({ list: key }, 'taking pings from their list again');
      }
      if (popped) for (const raw of popped[1]) this.run(index, key, raw);
    }
  }

  /** One blocking pop of up to `count` pings, oldest first; null when none came within blockSeconds. */
  private pop(client: RedisClient, key: string, count: number): Promise<[string, string[]] | null> {
    const popping = client.blmpop(this.blockSeconds, 1, [key], 'RIGHT', 'COUNT', count);
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PopStuck(key)), this.blockSeconds * 1000 + POP_WATCHDOG_MS);
    });
    return Promise.race([popping, stuck]).finally(() => clearTimeout(timer));
  }

  private run(index: number, list: string, raw: string): void {
    let job: PingJob;
    try {
      job = JSON.parse(raw) as PingJob;
    } catch {
      this.options.log.error({ list }, 'a ping in its list is not JSON: dropped');
      return;
    }
    this.inFlight[index]!++;
    let answering: Promise<unknown>;
    try {
      answering = this.options.handle(job, list);
    } catch (err) {
      answering = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    answering
      .catch((err: unknown) => this.options.log.error({ err, pingId: job.pingId, list }, 'ping failed'))
      .finally(() => {
        this.inFlight[index]!--;
        const wake = this.slotFreed[index];
        this.slotFreed[index] = undefined;
        wake?.();
      });
  }

  /**
   * Stops taking pings (each list's pop in progress ends within blockSeconds; what it brings is answered), and
   * resolves once the pings taken are answered. `disconnect()` then closes the connections.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const wake of this.slotFreed) wake?.();
    await Promise.all(this.loops);
    while (this.running > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  /** Closes the blocking connections (after `stop`, or instead of waiting for it). */
  disconnect(): void {
    this.stopping = true;
    for (const client of this.clients) client.disconnect();
  }
}

/** A pop that neither returned nor failed long after its own timeout. */
class PopStuck extends Error {
  override readonly name = 'PopStuck';
  constructor(key: string) {
    super(`the blocking pop of ${key} did not return in time: connecting again`);
  }
}
