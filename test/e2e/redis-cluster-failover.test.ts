import calculateSlot from 'cluster-key-slot';
import { createRedis, partitionOf, SharedCaches, subQueueName, type CacheTopic } from '@leadrouter/queue';
import { redisTarget } from '@leadrouter/config';
import { startHealthServer } from '../../services/worker/src/health';
import { FakePartner } from '../support/partner';
import { OwnRedisCluster } from '../support/redis-cluster';
import { sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

const PARTITIONS = 3;

/**
 * docs/scaling.md "Redis Cluster": the services follow a failover by
 * themselves. A cluster of the file's own (three masters, three replicas,
 * `cluster-node-timeout` 2 s), an ingest and a worker in this process, two
 * partners sharing every lead; the master of the busiest shard is killed while
 * leads keep coming.
 */
describe('a Redis Cluster failing over under traffic', () => {
  const cluster = new OwnRedisCluster();
  let stack: TestStack;
  const partners = [new FakePartner(), new FakePartner()];
  let source: { id: string; apiKey: string };
  let seq = 0;

  beforeAll(async () => {
    await cluster.start();
    stack = await new TestStack({
      clusterNodes: cluster.nodesEnv,
      env: { QUEUE_PARTITIONS: String(PARTITIONS), LOG_LEVEL: 'silent' },
    }).start();
    for (const p of partners) await p.start();
    source = await stack.createSource();
    const created = [];
    for (const p of partners) created.push(await stack.createPartner({ url: p.url }));
    await stack.createRoute({ maxDeliveries: 2, partners: created.map((p) => ({ partnerId: p.id })) });
  }, 90_000);
  afterAll(async () => {
    for (const p of partners) await p.stop();
    await stack?.stop();
    await cluster.destroy();
  });

  /** Posts one lead; its answer, how long it took, and when it was sent. */
  const postOne = async () => {
    const n = seq++;
    const sent = Date.now();
    const res = await stack.request('POST', '/v1/leads', {
      key: source.apiKey,
      body: sampleLead({ phone: `+1 415 55${String(n).padStart(5, '0')}`, email: `f${n}@example.com` }),
    });
    return { status: res.status, id: res.body?.id as string | undefined, ms: Date.now() - sent, sent };
  };

  /** How many requests each partner received for each lead. */
  const received = (p: FakePartner) => {
    const counts = new Map<string, number>();
    for (const r of p.requests) {
      const id = String(r.headers['x-lead-id']);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
  };

  /** Every lead delivered (to both partners), each exactly once to each. */
  async function expectDeliveredOnce(ids: string[], timeoutMs: number) {
    await waitFor(() => partners.every((p) => ids.every((id) => received(p).has(id))), {
      timeoutMs,
      intervalMs: 100,
      what: `${ids.length} leads delivered to both partners`,
    });
    for (const id of ids) expect({ id, status: await stack.finalStatus(id) }).toEqual({ id, status: 'delivered' });
    for (const [i, p] of partners.entries()) {
      const counts = received(p);
      const twice = ids.filter((id) => counts.get(id) !== 1);
      expect({ partner: i, notOnce: twice }).toEqual({ partner: i, notOnce: [] });
    }
  }

  /** docs/scaling.md's figures: `CLUSTER_REPORT=1 npx jest test/e2e/redis-cluster-failover`. */
  function report(run: {
    answers: { id?: string; sent: number; ms: number }[];
    readiness: { at: number; ingest: number; worker: number }[];
    killedAt: number;
    promoted: number;
  }) {
    const firstDelivery = new Map<string, number>();
    for (const r of partners[0]!.requests) {
      const id = String(r.headers['x-lead-id']);
      if (!firstDelivery.has(id)) firstDelivery.set(id, r.at);
    }
    const during = run.answers.filter((a) => a.sent >= run.killedAt && a.sent <= run.promoted);
    const delay = (onVictim: boolean) =>
      Math.max(
        0,
        ...during
          .filter((a) => (partitionOf(a.id!, PARTITIONS) === 0) === onVictim)
          .map((a) => firstDelivery.get(a.id!)! - a.sent),
      );
    const unready = run.readiness.filter((r) => r.at > run.killedAt && (r.ingest !== 200 || r.worker !== 200));
    process.stdout.write(
      `${JSON.stringify({
        promotedAfterMs: run.promoted - run.killedAt,
        leads: run.answers.length,
        acceptedDuringFailover: during.length,
        slowestAnswerMs: Math.max(...run.answers.map((a) => a.ms)),
        deliveryDelayMsOnFailedShard: delay(true),
        deliveryDelayMsOnOtherShards: delay(false),
        notReadyMs: unready.length ? unready[unready.length - 1]!.at - unready[0]!.at : 0,
      })}\n`,
    );
  }

  it('delivers every lead accepted before, during and after a master is killed, once per partner, with no restart', async () => {
    // The busiest shard: the one of route sub-queue 0 (route jobs make most of a lead's commands).
    const victim = await cluster.masterOfSlot(calculateSlot(subQueueName('route', 0)));
    const health = await startHealthServer(stack.workerDeps!, 0);
    const readiness: { at: number; ingest: number; worker: number }[] = [];
    let traffic = true;
    let victimDown = false;
    const answers: Awaited<ReturnType<typeof postOne>>[] = [];
    // Two sources of posts and a readiness probe, all the way through.
    const posting = Promise.all(
      [0, 1].map(async () => {
        while (traffic) answers.push(await postOne());
      }),
    );
    const probing = (async () => {
      while (traffic) {
        const [ingest, worker] = await Promise.all([
          fetch(`${stack.url}/readyz`).then((r) => r.status),
          fetch(`http://127.0.0.1:${health.port}/readyz`).then((r) => r.status),
        ]);
        readiness.push({ at: Date.now(), ingest, worker });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await waitFor(() => answers.length >= 40, { what: 'traffic before the kill' });
      const killedAt = Date.now();
      await cluster.kill(victim);
      victimDown = true;
      const promoted = await waitFor(
        async () => {
          const now = await cluster.masterOfSlot(calculateSlot(subQueueName('route', 0))).catch(() => victim);
          return now !== victim ? Date.now() : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 100, what: 'a replica to take over' },
      );
      // Traffic goes on after the failover too, until the readiness of both is back.
      await waitFor(() => readiness.some((r) => r.at > promoted && r.ingest === 200 && r.worker === 200), {
        timeoutMs: 30_000,
        what: 'both processes ready again',
      });
      await waitFor(() => answers.some((a) => a.sent > promoted + 1000), { what: 'posts after the failover' });
      traffic = false;
      await Promise.all([posting, probing]);

      // Every post answered 202, during the failover too, and the failover made no answer wait much longer than the
      // slowest before it: an enqueue to the failed shard fails within about 1.6 s (16 redirections 100 ms apart,
      // docs/scaling.md), and the lead is answered from its commit. Measured against the same run's answers before
      // the kill, so the machine's own load (a busy CI box adds seconds to any answer) is not counted as the
      // failover's.
      expect(answers.filter((a) => a.status !== 202)).toEqual([]);
      const slowest = (some: typeof answers) => Math.max(...some.map((a) => a.ms));
      const before = answers.filter((a) => a.sent < killedAt);
      expect(slowest(answers) - slowest(before)).toBeLessThan(2_500);
      const during = answers.filter((a) => a.sent >= killedAt && a.sent <= promoted);
      expect(during.length).toBeGreaterThan(0);
      // Readiness failed while the shard had no master, and came back by itself.
      expect(readiness.some((r) => r.at > killedAt && r.at < promoted && (r.ingest === 503 || r.worker === 503))).toBe(
        true,
      );

      const ids = answers.map((a) => a.id!);
      await expectDeliveredOnce(ids, 60_000);
      // Leads of the failed-over shard's sub-queue were among them, from before, during and after.
      const onVictim = answers.filter((a) => partitionOf(a.id!, PARTITIONS) === 0);
      expect(onVictim.some((a) => a.sent < killedAt)).toBe(true);
      expect(onVictim.some((a) => a.sent > promoted)).toBe(true);
      if (process.env.CLUSTER_REPORT) report({ answers, readiness, killedAt, promoted });
      // The old master comes back, as a replica of the new one.
      await cluster.restart(victim);
      victimDown = false;
    } finally {
      traffic = false;
      await Promise.allSettled([posting, probing]);
      await health.close();
      // After a failed expectation too: the next tests need the whole cluster.
      if (victimDown) await cluster.restart(victim).catch(() => undefined);
    }
  }, 180_000);

  it('keeps consuming every sub-queue after every connection to every node is cut at once (bullmq#4138)', async () => {
    // The workers' blocking connections are ioredis Cluster copies; one whose pool of nodes empties has been
    // seen to wait for ever (taskforcesh/bullmq#4138, open). Cut every client connection on every live node.
    await cluster.waitHealthy();
    const before = partners[0]!.requests.length;
    const cut = await cluster.cutClients();
    expect(cut).toBeGreaterThan(3 * PARTITIONS); // at least the workers' blocking connections
    // Leads into every sub-queue, until each has had a few.
    const ids: string[] = [];
    const perPart = Array<number>(PARTITIONS).fill(0);
    while (perPart.some((n) => n < 3)) {
      const a = await postOne();
      expect(a.status).toBe(202);
      ids.push(a.id!);
      perPart[partitionOf(a.id!, PARTITIONS)]!++;
    }
    await expectDeliveredOnce(ids, 60_000);
    expect(partners[0]!.requests.length).toBe(before + ids.length);
  }, 120_000);

  it('keeps the caches of every replica in step when the node their invalidations come through dies', async () => {
    const target = redisTarget(stack.workerConfig);
    const publisher = createRedis({ target, role: 'producer' });
    publisher.on('error', () => undefined);
    const prefix = `${stack.prefix}-caches`;
    const [a, b] = [new SharedCaches(publisher, target, prefix), new SharedCaches(publisher, target, prefix)];
    try {
      await waitFor(() => a.live && b.live, { what: 'both subscribed' });
      const topic: CacheTopic = 'sources';
      let version = 1;
      const cached = () => b.cache<string, number>(topic, 60_000).get('k', async () => version);
      expect(await cached()).toBe(1);
      // The node b's invalidations come through dies.
      const node = Number(b.subscribedTo.split(':')[1]);
      await cluster.kill(node);
      await waitFor(() => !b.live, { what: 'the subscription to drop' });
      version = 2;
      // Not subscribed: no caching, every read loads.
      expect(await cached()).toBe(2);
      await waitFor(() => a.live && b.live, { timeoutMs: 30_000, what: 'subscribed again through another node' });
      expect(await cached()).toBe(2);
      version = 3;
      expect(await cached()).toBe(2); // cached again
      await waitFor(
        async () => {
          await a.invalidate(topic);
          return (await cached()) === 3;
        },
        { timeoutMs: 30_000, what: "the other replica's cache to be dropped" },
      );
      await cluster.restart(node);
    } finally {
      a.close();
      b.close();
      publisher.disconnect();
    }
  }, 120_000);
});
