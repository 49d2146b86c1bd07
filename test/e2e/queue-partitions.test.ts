import { Queue } from 'bullmq';
import pg from 'pg';
import { createRedis, Queues, QUEUES, subQueueName, subQueueNames } from '@leadrouter/queue';
import { FakePartner } from '../support/partner';
import { sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

/**
 * docs/scaling.md "Changing QUEUE_PARTITIONS": jobs waiting under one number
 * of sub-queues are all run, once, by workers started with another; on one
 * Redis server (tests/e2e/redis-cluster.test.ts runs the layout on a cluster).
 */
describe('changing QUEUE_PARTITIONS', () => {
  /** A stack whose ingest splits queues in `partitions`, with no worker yet, routing to a partner of its own. */
  async function setUp(partitions: number) {
    const stack = await new TestStack({
      worker: false,
      captureLogs: true,
      env: { QUEUE_PARTITIONS: String(partitions) },
    }).start();
    const partner = await new FakePartner().start();
    const source = await stack.createSource();
    const created = await stack.createPartner({ url: partner.url });
    await stack.createRoute({ partners: [{ partnerId: created.id }] });
    const post = async (n: number) => {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const res = await stack.request('POST', '/v1/leads', {
          key: source.apiKey,
          body: sampleLead({ phone: `+1 415 555 ${String(1000 + i)}`, email: `lead${i}@example.com` }),
        });
        expect(res.status).toBe(202);
        ids.push(res.body.id);
      }
      return ids;
    };
    return { stack, partner, post };
  }

  /** Every lead delivered, and each exactly once. */
  async function expectDeliveredOnce(stack: TestStack, partner: FakePartner, ids: string[]) {
    for (const id of ids) expect({ id, status: await stack.finalStatus(id) }).toEqual({ id, status: 'delivered' });
    const received = partner.requests.map((r) => r.headers['x-lead-id']).sort();
    expect(received).toEqual([...ids].sort());
  }

  it('lowered (4 to 2, and from the single queues of before): the worker drains the sub-queues it left', async () => {
    const { stack, partner, post } = await setUp(4);
    const redis = createRedis({ url: stack.env().REDIS_URL!, role: 'worker' });
    const before = new Queues(redis, stack.prefix, { partitions: 4 });
    const legacy = new Queue(QUEUES.route, { connection: redis, prefix: stack.prefix });
    try {
      const ids = await post(24);
      // One lead's job as an installation from before sub-queues has it: in the one `route` queue.
      const [old] = await post(1);
      await (await before.route.getJob(old!))!.remove();
      await legacy.add(QUEUES.route, { leadId: old! }, { jobId: old! });
      const [, , third, fourth] = before.route.parts;
      expect(
        (await third!.getJobCounts('waiting')).waiting! + (await fourth!.getJobCounts('waiting')).waiting!,
      ).toBeGreaterThan(0);
      // Older than the sweeper's grace, and held (locked) in `queued` for two of its rounds: it looks for their
      // jobs, and must find those in the sub-queues being drained rather than add them again.
      await stack.db.$executeRaw`UPDATE leads SET created_at = now() - interval '1 minute'`;
      const lock = new pg.Client({ connectionString: stack.database.url });
      await lock.connect();
      try {
        await lock.query('BEGIN');
        await lock.query('SELECT id FROM leads FOR UPDATE');
        // One job per sub-queue at a time: the jobs waiting on the lock leave the pool room for the sweeper.
        await stack.startWorker({ QUEUE_PARTITIONS: '2', WORKER_CONCURRENCY: '1' });
        const rounds = async () => (await stack.workerDeps!.metrics!.sweeperRuns.get()).values[0]?.value ?? 0;
        await waitFor(async () => (await rounds()) >= 2, { what: 'two sweeper rounds' });
        // Not one job added again. (Once the leads are free, a round that read them still queued may add a job
        // that has just finished: that job then finds its lead routed and does nothing, as on any layout.)
        const requeued = await stack.workerDeps!.metrics!.sweeperRequeued.get();
        expect(requeued.values.reduce((sum, v) => sum + v.value, 0)).toBe(0);
        await lock.query('COMMIT');
      } finally {
        await lock.end();
      }
      await expectDeliveredOnce(stack, partner, [...ids, old!]);
      await waitFor(
        async () => {
          const left = await Promise.all(
            [third!, fourth!, legacy].map((q) => q.getJobCounts('waiting', 'active', 'delayed', 'prioritized')),
          );
          return left.every((counts) => Object.values(counts).every((n) => n === 0));
        },
        { what: 'the sub-queues of the old layouts to be empty' },
      );
      const drained = stack.logLines
        .filter((line) => line.includes('draining jobs left in a sub-queue of another layout'))
        .map((line) => (JSON.parse(line) as { subQueue: string }).subQueue);
      expect(drained).toEqual(
        expect.arrayContaining([QUEUES.route, subQueueName('route', 2), subQueueName('route', 3)]),
      );
    } finally {
      await legacy.close();
      await before.close();
      redis.disconnect();
      await partner.stop();
      await stack.stop();
    }
  });

  it('raised (2 to 5): the old sub-queues are the first of the new layout, nothing to drain', async () => {
    const { stack, partner, post } = await setUp(2);
    try {
      const ids = await post(10);
      await stack.startWorker({ QUEUE_PARTITIONS: '5' });
      expect(stack.workerDeps!.queues.route.parts.map((q) => q.name)).toEqual(subQueueNames('route', 5));
      await expectDeliveredOnce(stack, partner, ids);
      expect(stack.logLines.filter((line) => line.includes('draining jobs left'))).toEqual([]);
    } finally {
      await partner.stop();
      await stack.stop();
    }
  });
});
