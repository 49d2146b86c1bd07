// A worker stopped while Redis is away must leave nothing running: BullMQ's
// close() hangs on a reconnecting blocking connection (taskforcesh/bullmq#4656)
// before it stops its lock renewal timer, which then ticks for ever and keeps
// an embedding process (or a Jest worker) alive. startWorker's stop() gives up
// on close() after a grace period and releases what it left behind.
import { OwnRedis } from '../support/redis-server';
import { TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

/** Timers alive in this process now. */
const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

it('a worker stopped while Redis is away leaves no timer running', async () => {
  const redis = new OwnRedis();
  await redis.start();
  const before = timers();
  const stack = await new TestStack({ redisUrl: redis.url }).start();
  try {
    // The workers are running: their lock renewal timers are armed.
    await waitFor(() => timers() > before, { what: 'the workers to start their timers' });
    await redis.stop();
  } finally {
    await stack.stop();
    await redis.destroy();
  }
  // The stalled-job checker sees `closing` at its next tick (stalledInterval, 5 s); the lock renewal
  // timer would tick every 2.5 s for ever.
  await waitFor(() => timers() <= before, { timeoutMs: 10_000, what: 'every timer of the stopped worker to end' });
}, 60_000);
