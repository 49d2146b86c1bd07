import { randomUUID } from 'node:crypto';
import type { RedisTarget } from '@leadrouter/config';
import { redisKeys } from './layout.js';
import type { PingReply } from './ping-reply.js';
import { ChannelSubscriber } from './subscriber.js';

/** One expected reply: registered before the ping is enqueued, so a reply however quick is not missed. */
export interface ExpectedReply {
  /**
   * The reply, or undefined after `ms` — or sooner when the subscription comes back after a break (a reply may
   * have been missed: look at the binding) or is closed.
   */
  within(ms: number): Promise<PingReply | undefined>;
  /** Stops expecting it (answered, or given up). */
  done(): void;
}

interface Slot {
  reply?: PingReply;
  wake?: () => void;
}

/**
 * The replies to one ingest process's pings (ADR 0032, 0033): a channel of its own
 * (`<prefix>:ping-replies:<random id>`), named in each ping's job, so a worker's answer reaches only the ingest
 * waiting for it (the outcomes channel reaches every ingest) and carries the answer itself (no read of the
 * binding on the answer's path). One subscription per process, a map of ping id to its waiting request.
 */
export class PingReplies {
  readonly channel: string;
  private readonly subscription: ChannelSubscriber;
  private readonly slots = new Map<string, Slot>();
  private isClosed = false;

  constructor(redis: string | RedisTarget, prefix: string, onError: (err: Error) => void = () => undefined) {
    this.channel = redisKeys(prefix).pingReplies(randomUUID());
    this.subscription = new ChannelSubscriber(
      redis,
      this.channel,
      { message: (m) => this.received(m), up: () => this.wakeAll(), down: () => undefined },
      onError,
    );
  }

  /** Whether replies are received right now. */
  get live(): boolean {
    return this.subscription.live && !this.isClosed;
  }

  /** Closed: the process is stopping, and replies are no longer waited for. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Expects the reply to ping `pingId` (call before enqueuing it; `done()` when answered). */
  expect(pingId: string): ExpectedReply {
    const slot: Slot = {};
    this.slots.set(pingId, slot);
    return {
      within: (ms) => {
        if (slot.reply || this.isClosed || ms <= 0) return Promise.resolve(slot.reply);
        return new Promise((resolve) => {
          const timer = setTimeout(() => slot.wake?.(), ms);
          slot.wake = () => {
            clearTimeout(timer);
            slot.wake = undefined;
            resolve(slot.reply);
          };
        });
      },
      done: () => {
        if (this.slots.get(pingId) === slot) this.slots.delete(pingId);
      },
    };
  }

  /** How many pings are waited for now (a test's check that nothing is left behind). */
  get waiting(): number {
    return this.slots.size;
  }

  private received(message: string): void {
    let parsed: PingReply & { pingId?: unknown };
    try {
      parsed = JSON.parse(message) as PingReply & { pingId?: unknown };
    } catch {
      return;
    }
    const slot = typeof parsed.pingId === 'string' ? this.slots.get(parsed.pingId) : undefined;
    if (!slot || (parsed.status !== 'bid' && parsed.status !== 'no_bid')) return;
    slot.reply = {
      status: parsed.status,
      expiresAt: Number(parsed.expiresAt),
      ...(typeof parsed.sourceBid === 'string' ? { sourceBid: parsed.sourceBid } : {}),
    };
    slot.wake?.();
  }

  private wakeAll(): void {
    for (const slot of this.slots.values()) slot.wake?.();
  }

  close(): void {
    this.isClosed = true;
    this.subscription.close();
    this.wakeAll();
  }
}
