import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { createRedis, Queues, RedisUnavailableError, subQueueNames } from './connection.js';
import { partitionOf } from './layout.js';

/** A loopback port with nothing listening on it (taken, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('Queues on a producer connection that has never reached Redis', () => {
  it('refuses to enqueue at once, instead of waiting for Redis to come up', async () => {
    const redis = createRedis({ url: `redis://127.0.0.1:${await closedPort()}`, role: 'producer' });
    redis.on('error', () => undefined);
    const queues = new Queues(redis, `test-${randomBytes(4).toString('hex')}`);
    try {
      const started = Date.now();
      const attempts = await Promise.all([
        queues.enqueueRoute(['a-lead']).catch((err: unknown) => err),
        queues.enqueueDelivery({ deliveryId: 'a-delivery', attempt: 1 }).catch((err: unknown) => err),
        queues.enqueuePostback({ postbackId: 'a-postback', attempt: 1 }).catch((err: unknown) => err),
      ]);
      for (const err of attempts) expect(err).toBeInstanceOf(RedisUnavailableError);
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      redis.disconnect();
      await queues.close().catch(() => undefined);
    }
  });

  it('enqueues as usual once connected', async () => {
    const redis = createRedis({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', role: 'producer' });
    redis.on('error', () => undefined);
    const queues = new Queues(redis, `test-${randomBytes(4).toString('hex')}`);
    try {
      await new Promise((resolve) => redis.once('ready', resolve));
      await queues.enqueueRoute(['a-lead']);
      expect(await queues.route.getJobCounts('waiting')).toEqual({ waiting: 1 });
      await queues.route.obliterate({ force: true });
    } finally {
      await queues.close();
      redis.disconnect();
    }
  });
});

describe('Queues split into sub-queues', () => {
  it('adds each job to the sub-queue of its id, once, finds it there, and counts over all of them', async () => {
    const redis = createRedis({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', role: 'worker' });
    const queues = new Queues(redis, `test-${randomBytes(4).toString('hex')}`, { partitions: 3 });
    try {
      expect(queues.route.parts.map((q) => q.name)).toEqual(subQueueNames('route', 3));
      const leads = Array.from({ length: 30 }, (_, i) => `lead-${i}`);
      await queues.enqueueRoute(leads);
      await queues.enqueueRoute(leads.slice(0, 10)); // again: no second job
      await queues.enqueueDelivery({ deliveryId: 'd-1', attempt: 2 }, 60_000);
      expect(await queues.route.getJobCounts('waiting')).toEqual({ waiting: 30 });
      for (const [i, part] of queues.route.parts.entries()) {
        const ids = (await part.getJobs(['waiting'])).map((j) => j.id).sort();
        expect(ids).toEqual(leads.filter((id) => partitionOf(id, 3) === i).sort());
        expect(ids.length).toBeGreaterThan(0);
      }
      expect((await queues.route.getJob('lead-7'))?.data).toEqual({ leadId: 'lead-7' });
      expect((await queues.deliver.getJob('d-1-a2'))?.data).toEqual({ deliveryId: 'd-1', attempt: 2 });
      expect(await queues.route.getJob('lead-none')).toBeUndefined();
      expect(await queues.deliver.getJobCounts('delayed', 'waiting')).toEqual({ delayed: 1, waiting: 0 });
      for (const q of queues.all()) await q.obliterate({ force: true });
    } finally {
      await queues.close();
      redis.disconnect();
    }
  });
});
