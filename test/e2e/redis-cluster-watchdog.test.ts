import { Queue, Worker, type Job } from 'bullmq';
import pino from 'pino';
import { createRedis, type RedisClient } from '@leadrouter/queue';
import { startQueueWatchdog, type Watched } from '../../services/worker/src/queue-watchdog';
import { OwnRedisCluster } from '../support/redis-cluster';
import { waitFor } from '../support/wait';

const PREFIX = 'watchdog';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The blocking connection BullMQ's worker waits for jobs on: an ioredis Cluster of its own (not public API). */
interface ClusterClient {
  status: string;
  nodes(): { options: { host: string; port: number } }[];
  disconnect(): void;
  connectionPool: { findOrCreate(node: { host: string; port: number }): unknown };
}
const blockingClient = (worker: Worker): ClusterClient =>
  (worker.getBackend().blockingConnection as unknown as { _client: ClusterClient })._client;

/**
 * Leaves a worker's blocking connection as the benchmark's failover left one (ADR 0024, "A worker that stops
 * taking jobs is replaced"): the Cluster client `disconnecting`, with a node in its pool that never connects,
 * so that it never closes, never reconnects, and the worker waits on it for ever.
 */
function wedge(worker: Worker): void {
  const client = blockingClient(worker);
  const node = client.nodes()[0]!.options;
  client.disconnect();
  client.connectionPool.findOrCreate({ host: node.host, port: node.port });
}

/**
 * ADR 0024, "A worker that stops taking jobs is replaced": the worker's watchdog, on a real Redis Cluster of the file's own
 * with real BullMQ workers — one whose blocking connection is stuck is replaced and its jobs run; healthy ones
 * (idle with jobs due later, or busy) are left alone.
 */
describe('the queue watchdog', () => {
  const cluster = new OwnRedisCluster();
  let connection: RedisClient;
  const log = pino({ level: 'silent' });
  const closing: Promise<unknown>[] = [];

  /** A sub-queue's worker with the counts the watchdog reads, replaced in place like the worker service does. */
  function consumer(name: string, processor: (job: Job) => Promise<void>) {
    const counts = { started: 0, running: 0, replaced: 0 };
    const make = () =>
      new Worker(
        name,
        async (job) => {
          counts.started++;
          counts.running++;
          try {
            await processor(job);
          } finally {
            counts.running--;
          }
        },
        { connection, prefix: PREFIX, concurrency: 1 },
      );
    const self = {
      counts,
      worker: make(),
      watched: (): Watched => ({ name, worker: self.worker, ...counts }),
      replace(_name: string, stuck: Worker) {
        counts.replaced++;
        self.worker = make();
        closing.push(stuck.close().catch(() => undefined));
        // What the service's releaseStuckClose does: the stuck connection is let go.
        setTimeout(() => (blockingClient(stuck) as unknown as { disconnect(): void }).disconnect(), 500).unref();
      },
    };
    return self;
  }

  beforeAll(async () => {
    await cluster.start();
    connection = createRedis({
      target: { kind: 'cluster', nodes: cluster.ports.map((port) => ({ host: '127.0.0.1', port })) },
      role: 'worker',
    });
  }, 90_000);
  afterAll(async () => {
    // A stuck worker's close() may never end (taskforcesh/bullmq#4656): waited for a while, not for ever.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(closing), new Promise((resolve) => (timer = setTimeout(resolve, 3_000)))]);
    clearTimeout(timer);
    connection?.disconnect();
    await cluster.destroy();
  });

  it('replaces a worker whose blocking connection is stuck, and its due jobs run', async () => {
    const name = '{watchdog-stuck}';
    const ran: string[] = [];
    const c = consumer(name, async (job) => void ran.push(String(job.id)));
    const queue = new Queue(name, { connection, prefix: PREFIX });
    try {
      await queue.add('job', {}, { jobId: 'job-before' });
      await waitFor(() => ran.includes('job-before'), { what: 'the first job to run' });
      await waitFor(() => blockingClient(c.worker).status === 'ready', { what: 'the worker to wait for jobs' });

      wedge(c.worker);
      // The fetch the wedge interrupted may take a job yet (BullMQ then waits on the stuck connection): let it end.
      await sleep(1_000);
      await queue.add('job', {}, { jobId: 'job-waiting' });
      await queue.add('job', {}, { jobId: 'job-delayed', delay: 300 });
      // The wedge is real: a healthy worker takes a job within milliseconds; this one takes none.
      await sleep(3_000);
      expect(ran).toEqual(['job-before']);
      expect(blockingClient(c.worker).status).toBe('disconnecting');

      const watchdog = startQueueWatchdog({
        connection,
        prefix: PREFIX,
        log,
        watched: () => [c.watched()],
        replace: c.replace,
        intervalMs: 250,
        stuckMs: 1_000,
      });
      try {
        await waitFor(() => ran.includes('job-waiting') && ran.includes('job-delayed'), {
          what: 'the due jobs to run on the new worker',
          timeoutMs: 20_000,
        });
        expect(c.counts.replaced).toBe(1);
        expect(ran.sort()).toEqual(['job-before', 'job-delayed', 'job-waiting']);
      } finally {
        await watchdog.stop();
      }
    } finally {
      closing.push(c.worker.close());
      await queue.close();
    }
  }, 60_000);

  it('leaves alone an idle worker whose jobs are due later, and a busy one', async () => {
    const idle = consumer('{watchdog-idle}', async () => undefined);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const busy = consumer('{watchdog-busy}', () => held);
    const idleQueue = new Queue('{watchdog-idle}', { connection, prefix: PREFIX });
    const busyQueue = new Queue('{watchdog-busy}', { connection, prefix: PREFIX });
    const watchdog = startQueueWatchdog({
      connection,
      prefix: PREFIX,
      log,
      watched: () => [idle.watched(), busy.watched()],
      replace: (name, worker) => (name === '{watchdog-idle}' ? idle : busy).replace(name, worker),
      intervalMs: 250,
      stuckMs: 1_000,
    });
    try {
      await idleQueue.add('job', {}, { jobId: 'job-later', delay: 60_000 });
      // One job runs (held) while the next waits behind it: concurrency 1.
      await busyQueue.add('job', {}, { jobId: 'job-first' });
      await waitFor(() => busy.counts.running === 1, { what: 'the busy worker to run its job' });
      await busyQueue.add('job', {}, { jobId: 'job-second' });
      await sleep(3_000);
      expect(idle.counts.replaced).toBe(0);
      expect(busy.counts.replaced).toBe(0);
      expect(idle.counts.started).toBe(0);
      expect(await busyQueue.getJobCounts('wait')).toEqual({ wait: 1 });
    } finally {
      release();
      await watchdog.stop();
      closing.push(idle.worker.close(), busy.worker.close());
      await Promise.all([idleQueue.close(), busyQueue.close()]);
    }
  }, 60_000);
});
