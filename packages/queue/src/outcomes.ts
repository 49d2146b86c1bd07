import type { RedisTarget } from '@leadrouter/config';
import { redisKeys } from './layout.js';
import { ChannelSubscriber } from './subscriber.js';

/** While not subscribed (Redis away), how often a waiting request looks in PostgreSQL itself. */
const POLL_WHILE_DOWN_MS = 500;

/**
 * The channel on which the worker announces that a lead reached its final status (the lead's id, nothing else:
 * the waiting ingest reads the outcome from PostgreSQL in its source's terms; ADR 0033).
 */
export const outcomesChannel = (prefix: string): string => redisKeys(prefix).outcomes;

/**
 * The requests of one ingest process that wait for their leads' outcomes (`Prefer: wait`, ADR 0033): one
 * subscription per process to the outcomes channel, shared by every waiting request (a map of lead id to its
 * waiters), never one per request.
 *
 * A request registers its leads before it first looks in PostgreSQL, so an outcome committed before it looks is
 * found there, and one committed after is announced to a registered waiter. Whenever the subscription is not live
 * (Redis away, a cluster node changed) announcements may be missed: every waiter looks again when it is back, and
 * polls PostgreSQL meanwhile.
 */
export class OutcomeWaiters {
  private readonly subscription: ChannelSubscriber;
  private readonly waiters = new Map<string, Set<() => void>>();
  private closed = false;

  constructor(redis: string | RedisTarget, prefix: string, onError: (err: Error) => void = () => undefined) {
    this.subscription = new ChannelSubscriber(
      redis,
      outcomesChannel(prefix),
      {
        message: (leadId) => this.waiters.get(leadId)?.forEach((wake) => wake()),
        up: () => this.wakeAll(),
        down: () => undefined,
      },
      onError,
    );
  }

  /** Whether announcements are received right now. */
  get live(): boolean {
    return this.subscription.live;
  }

  /**
   * Waits until `look()` finds every lead of `leadIds` settled, or `ms` have passed: `look` is called once at
   * once, then each time one of the leads is announced (or every half second while not subscribed), and once
   * more at the deadline; it returns the leads it found settled. Returns what was found of each (at once once
   * closed: a stopping ingest answers its waiting requests without their outcome).
   */
  async wait<T>(leadIds: readonly string[], ms: number, look: (ids: string[]) => Promise<Map<string, T>>) {
    const found = new Map<string, T>();
    const deadline = Date.now() + ms;
    let wake: () => void = () => undefined;
    let woken = false;
    const waiter = () => {
      woken = true;
      wake();
    };
    for (const id of leadIds) this.add(id, waiter);
    try {
      for (;;) {
        woken = false;
        const open = leadIds.filter((id) => !found.has(id));
        for (const [id, outcome] of await look(open)) found.set(id, outcome);
        const left = deadline - Date.now();
        if (found.size === leadIds.length || left <= 0 || this.closed) return found;
        if (woken) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.live ? left : Math.min(left, POLL_WHILE_DOWN_MS));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = () => undefined;
      }
    } finally {
      for (const id of leadIds) this.remove(id, waiter);
    }
  }

  private add(leadId: string, waiter: () => void): void {
    let set = this.waiters.get(leadId);
    if (!set) this.waiters.set(leadId, (set = new Set()));
    set.add(waiter);
  }

  private remove(leadId: string, waiter: () => void): void {
    const set = this.waiters.get(leadId);
    set?.delete(waiter);
    if (set?.size === 0) this.waiters.delete(leadId);
  }

  private wakeAll(): void {
    for (const set of this.waiters.values()) set.forEach((wake) => wake());
  }

  /** How many leads are waited for now (a gauge; a test's check that nothing is left behind). */
  get waiting(): number {
    return this.waiters.size;
  }

  close(): void {
    this.closed = true;
    this.subscription.close();
    this.wakeAll();
  }
}
