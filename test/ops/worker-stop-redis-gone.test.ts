// A worker stopped while Redis is away must leave nothing running: BullMQ's
// close() hangs on a reconnecting blocking connection (taskforcesh/bullmq#4656)
// before it stops its lock renewal timer, which then ticks for ever, and its
// blocking connection may go on reconnecting; either keeps an embedding
// process (or a Jest worker) alive. startWorker's stop() releases them.
import { OwnRedis } from '../support/redis-server';
import { TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

/**
 * The timers armed by this file's code (this test file has a global of its own, so a timer of another file
 * running in the same Jest worker is not counted) and not yet fired or cleared.
 */
function trackTimers(): { pending(): number } {
  const live = new Set<NodeJS.Timeout>();
  const g = globalThis as unknown as Record<string, (...args: unknown[]) => unknown>;
  const [setT, setI, clearT, clearI] = [g.setTimeout!, g.setInterval!, g.clearTimeout!, g.clearInterval!];
  g.setTimeout = (fn: unknown, ...rest: unknown[]) => {
    const timer = setT(
      (...args: unknown[]) => {
        live.delete(timer);
        (fn as (...a: unknown[]) => void)(...args);
      },
      ...rest,
    ) as NodeJS.Timeout;
    live.add(timer);
    return timer;
  };
  g.setInterval = (...args: unknown[]) => {
    const timer = setI(...args) as NodeJS.Timeout;
    live.add(timer);
    return timer;
  };
  g.clearTimeout = (timer: unknown) => (live.delete(timer as NodeJS.Timeout), clearT(timer));
  g.clearInterval = (timer: unknown) => (live.delete(timer as NodeJS.Timeout), clearI(timer));
  return { pending: () => [...live].filter((t) => t.hasRef()).length };
}

it('a worker stopped while Redis is away leaves no timer running', async () => {
  const redis = new OwnRedis();
  await redis.start();
  const timers = trackTimers();
  const stack = await new TestStack({ redisUrl: redis.url }).start();
  try {
    // The workers are running: their lock renewal timers are armed.
    await waitFor(() => timers.pending() > 0, { what: 'the workers to start their timers' });
    await redis.stop();
  } finally {
    await stack.stop();
    await redis.destroy();
  }
  // The stalled-job checker sees `closing` at its next tick (stalledInterval, 5 s); the lock renewal
  // timer would tick every 2.5 s for ever, a reconnecting client arm a timer every 2 s.
  await waitFor(() => timers.pending() === 0, { timeoutMs: 10_000, what: 'every timer of the stopped worker to end' });
}, 60_000);
