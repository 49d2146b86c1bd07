import { randomUUID } from 'node:crypto';
import {
  createRedis,
  PingBindings,
  PingConsumer,
  PingLists,
  pingListKey,
  type PingJob,
  type RedisClient,
} from '@leadrouter/queue';
import { FakePartner } from '../support/partner';
import { ServiceProcess } from '../support/process';
import { OwnRedisCluster } from '../support/redis-cluster';
import { OwnRedis } from '../support/redis-server';
import { TestStack } from '../support/stack';
import { gate, waitFor } from '../support/wait';

// Sources' pings off BullMQ (ADR 0032, "Pings off BullMQ"): a plain Redis list per sub-queue, pushed by the ingest
// and popped in batches by the workers. What the lists must keep of the guarantees pings had.

const SHARED_REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A ping as the ingest pushes it, answerable for the next minute. */
const pingJob = (over: Partial<PingJob> = {}): PingJob => {
  const now = Date.now();
  return {
    pingId: randomUUID(),
    sourceId: randomUUID(),
    receivedAt: now,
    expiresAt: now + 300_000,
    answerBy: now + 60_000,
    values: { geo: 'US', source: null, fields: {}, consent: null },
    ...over,
  };
};

/** A consumer's log lines, kept. */
/** A ping handler that records each ping's id and answers the first only once `opened` resolves. */
const holdingTheFirst =
  (taken: string[], opened: Promise<unknown>) =>
  async (job: PingJob): Promise<void> => {
    taken.push(job.pingId);
    if (taken.length === 1) await opened;
  };

const recordingLog = () => {
  const lines: { level: string; msg: string; obj: object }[] = [];
  return {
    lines,
    warn: (obj: object, msg: string) => lines.push({ level: 'warn', msg, obj }),
    error: (obj: object, msg: string) => lines.push({ level: 'error', msg, obj }),
  };
};

describe('the pings’ lists and their consumers', () => {
  const prefix = `lrtest-pl-${randomUUID().slice(0, 8)}`;
  let producer: RedisClient;
  const consumers: PingConsumer[] = [];
  const consumer = (options: Omit<ConstructorParameters<typeof PingConsumer>[0], 'target' | 'prefix'>) => {
    const c = new PingConsumer({ target: { kind: 'server', url: SHARED_REDIS }, prefix, ...options });
    consumers.push(c);
    return c;
  };

  beforeAll(() => {
    producer = createRedis({ url: SHARED_REDIS, role: 'worker' });
  });
  afterEach(async () => {
    for (const c of consumers.splice(0)) c.disconnect();
    const keys = await producer.keys(`${prefix}:*`);
    if (keys.length > 0) await producer.del(...keys);
  });
  afterAll(() => producer.disconnect());

  it('gives each ping to one of two consumers of the same lists, both taking some', async () => {
    const PINGS = 400;
    const lists = new PingLists(producer, prefix, 2);
    const taken: { pingId: string; by: number }[] = [];
    const handle = (by: number) => async (job: PingJob) => {
      taken.push({ pingId: job.pingId, by });
      // Each answer takes a little while, as an auction does: neither consumer can take everything.
      await new Promise((resolve) => setTimeout(resolve, 5));
    };
    const log = recordingLog();
    consumer({ partitions: 2, concurrency: 4, handle: handle(0), log });
    consumer({ partitions: 2, concurrency: 4, handle: handle(1), log });
    const pushed: string[] = [];
    for (let i = 0; i < PINGS; i++) {
      const job = pingJob();
      pushed.push(job.pingId);
      await lists.push(job);
    }
    await waitFor(() => taken.length >= PINGS, { what: 'every ping taken' });
    expect(taken.map((t) => t.pingId).sort()).toEqual([...pushed].sort());
    expect(new Set(taken.map((t) => t.pingId)).size).toBe(PINGS);
    for (const by of [0, 1]) expect(taken.filter((t) => t.by === by).length).toBeGreaterThan(0);
    // Both lists were used (one ping each in turn) and are empty now.
    expect(await lists.getJobCounts('waiting', 'active', 'delayed', 'failed')).toEqual({
      waiting: 0,
      active: 0,
      delayed: 0,
      failed: 0,
    });
    expect(log.lines).toEqual([]);
  });

  it('stops taking pings when stopped, and finishes those it took first', async () => {
    const lists = new PingLists(producer, prefix, 1);
    const { opened, open } = gate();
    const started: string[] = [];
    const finished: string[] = [];
    // Three at once: with all three taken, the consumer waits for a free slot, not on Redis.
    const c = consumer({
      partitions: 1,
      concurrency: 3,
      log: recordingLog(),
      handle: async (job) => {
        started.push(job.pingId);
        await opened;
        finished.push(job.pingId);
      },
    });
    const first = [pingJob(), pingJob(), pingJob()];
    for (const job of first) await lists.push(job);
    await waitFor(() => started.length === 3, { what: 'three pings taken' });
    let stopped = false;
    const stopping = c.stop().then(() => (stopped = true));
    expect(c.running).toBe(3);
    // Pushed after the stop: not taken.
    await lists.push(pingJob());
    await lists.push(pingJob());
    expect(stopped).toBe(false);
    open();
    await stopping;
    expect(finished.sort()).toEqual(first.map((j) => j.pingId).sort());
    expect(c.running).toBe(0);
    expect(await producer.llen(pingListKey(prefix, 0))).toBe(2);
    expect(started).toHaveLength(3);
  });

  it('takes pings on a new connection when its own was closed for good', async () => {
    const log = recordingLog();
    const taken: string[] = [];
    const { opened, open } = gate();
    // One at a time: while the first ping is answered the consumer waits for a free slot, not on Redis.
    const c = consumer({
      partitions: 1,
      concurrency: 1,
      log,
      handle: holdingTheFirst(taken, opened),
    });
    const lists = new PingLists(producer, prefix, 1);
    const first = pingJob();
    await lists.push(first);
    await waitFor(() => taken.length === 1, { what: 'a ping taken' });
    // Closed for good under it (status `end`): every pop on it is refused at once.
    const old = blockingClient(c);
    old.disconnect();
    await waitFor(() => old.status === 'end', { what: 'the connection ended' });
    const second = pingJob();
    await lists.push(second);
    open();
    await waitFor(() => taken.length === 2, { what: 'a ping taken on a new connection' });
    expect(taken).toEqual([first.pingId, second.pingId]);
    expect(blockingClient(c)).not.toBe(old);
    expect(log.lines.map((l) => [l.msg, (l.obj as { err?: { message: string } }).err?.message])).toEqual([
      ['could not take pings from their list', 'Connection is closed.'],
      ['taking pings from their list again', undefined],
    ]);
  });

  it('drops what is not a ping, saying so, and goes on', async () => {
    const log = recordingLog();
    const taken: string[] = [];
    consumer({ partitions: 1, concurrency: 2, log, handle: async (job) => void taken.push(job.pingId) });
    await producer.lpush(pingListKey(prefix, 0), '{not json');
    const job = pingJob();
    await new PingLists(producer, prefix, 1).push(job);
    await waitFor(() => taken.length === 1, { what: 'the ping after it taken' });
    expect(taken).toEqual([job.pingId]);
    expect(log.lines.map((l) => l.msg)).toEqual(['a ping in its list is not JSON: dropped']);
  });
});

/** A consumer's blocking connection of list 0 (private: a test reaches it to break it). */
const blockingClient = (c: PingConsumer) => (c as unknown as { clients: RedisClient[] }).clients[0]!;

describe('a list’s blocking connection on a Redis Cluster, left as a failover can leave it', () => {
  const cluster = new OwnRedisCluster();
  beforeAll(() => cluster.start(), 120_000);
  afterAll(() => cluster.destroy(), 60_000);

  it('is given up on after its pop’s time and a new one takes the pings', async () => {
    const target = {
      kind: 'cluster' as const,
      nodes: cluster.ports.map((port) => ({ host: '127.0.0.1', port })),
    };
    const prefix = 'lrtest-pl-wedge';
    const log = recordingLog();
    const taken: string[] = [];
    const { opened, open } = gate();
    // One at a time: while the first ping is answered the consumer waits for a free slot, with no pop in flight.
    const c = new PingConsumer({
      target,
      prefix,
      partitions: 1,
      concurrency: 1,
      log,
      handle: holdingTheFirst(taken, opened),
    });
    const producer = createRedis({ target, role: 'worker' });
    try {
      const lists = new PingLists(producer, prefix, 1);
      const first = pingJob();
      await lists.push(first);
      await waitFor(() => taken.length === 1, { timeoutMs: 20_000, what: 'a ping taken' });
      // As the failover bench left a BullMQ worker's blocking connection (ADR 0024, "A worker that stops taking
      // jobs is replaced"): the Cluster client `disconnecting`, with a node in its pool that never connects, so
      // that it neither closes nor reconnects, and a command on it waits for ever without an error.
      const wedged = blockingClient(c) as unknown as {
        nodes(): { options: { host: string; port: number } }[];
        disconnect(): void;
        connectionPool: { findOrCreate(node: { host: string; port: number }): unknown };
      };
      const node = wedged.nodes()[0]!.options;
      wedged.disconnect();
      wedged.connectionPool.findOrCreate({ host: node.host, port: node.port });
      const second = pingJob();
      await lists.push(second);
      open();
      // Its pop's second and the 5 s after it, then a new connection: well within 15 s.
      await waitFor(() => taken.length === 2, { timeoutMs: 15_000, what: 'the ping taken on a new connection' });
      expect(taken).toEqual([first.pingId, second.pingId]);
      expect(blockingClient(c)).not.toBe(wedged);
      expect(log.lines.map((l) => [l.msg, (l.obj as { err?: { message: string } }).err?.message])).toEqual([
        [
          'could not take pings from their list',
          `the blocking pop of ${pingListKey(prefix, 0)} did not return in time: connecting again`,
        ],
        ['taking pings from their list again', undefined],
      ]);
    } finally {
      c.disconnect();
      producer.disconnect();
    }
  }, 60_000);
});

describe('a worker’s pings while Redis goes away', () => {
  const redis = new OwnRedis();
  beforeAll(() => redis.start());
  afterAll(() => redis.destroy(), 30_000);

  it('waits, says so once, and takes pings again when Redis is back, without crashing', async () => {
    const prefix = 'lrtest-pl-outage';
    const log = recordingLog();
    const taken: string[] = [];
    const c = new PingConsumer({
      target: { kind: 'server', url: redis.url },
      prefix,
      partitions: 1,
      concurrency: 4,
      log,
      handle: async (job) => void taken.push(job.pingId),
    });
    const producer = createRedis({ url: redis.url, role: 'producer' });
    producer.on('error', () => undefined);
    try {
      const before = pingJob();
      await waitFor(() => producer.status === 'ready', { what: 'the producer connected' });
      await new PingLists(producer, prefix, 1).push(before);
      await waitFor(() => taken.includes(before.pingId), { what: 'a ping taken' });

      await redis.stop();
      // The pop in progress waits for Redis; past its watchdog the consumer connects anew and says so, once.
      await waitFor(() => log.lines.length > 0, { timeoutMs: 20_000, what: 'a warning' });
      expect(log.lines[0]).toMatchObject({ level: 'warn', msg: 'could not take pings from their list' });

      await redis.start();
      await waitFor(() => producer.status === 'ready', { timeoutMs: 20_000, what: 'the producer back' });
      const after = pingJob();
      await new PingLists(producer, prefix, 1).push(after);
      await waitFor(() => taken.includes(after.pingId), { timeoutMs: 20_000, what: 'a ping taken after the outage' });
      expect(taken).toEqual([before.pingId, after.pingId]);
      expect(log.lines.map((l) => l.msg)).toEqual([
        'could not take pings from their list',
        'taking pings from their list again',
      ]);
    } finally {
      c.disconnect();
      producer.disconnect();
    }
  }, 60_000);

  it('answers a ping 503 at once while Redis is away, and within seconds while it is frozen', async () => {
    const stack = await new TestStack({ redisUrl: redis.url, worker: false }).start();
    try {
      const source = await stack.createSource();
      const ping = async () => {
        const started = Date.now();
        const res = await stack.request('POST', '/v1/pings', { key: source.apiKey, body: { geo: 'US' } });
        return { status: res.status, ms: Date.now() - started };
      };
      await redis.stop();
      const away = await ping();
      expect(away.status).toBe(503);
      expect(away.ms).toBeLessThan(3_000);
      await redis.start();
      redis.freeze();
      try {
        const frozen = await ping();
        expect(frozen.status).toBe(503);
        expect(frozen.ms).toBeLessThan(5_000);
      } finally {
        redis.thaw();
      }
    } finally {
      await stack.stop();
    }
  }, 60_000);
});

describe('pings a worker takes too late, or dies with', () => {
  const stack = new TestStack({ worker: false });
  let buyer: FakePartner;
  let source: { id: string; apiKey: string };
  let redis: RedisClient;
  /** How long the buyer takes to bid: well inside the route's deadline. */
  const BID_MS = 300;
  /** The auction route's deadline: the ingest answers no bid itself at about this plus 80 ms. */
  const DEADLINE_MS = 2_500;

  beforeAll(async () => {
    await stack.start();
    redis = createRedis({ url: stack.ingestConfig.REDIS_URL, role: 'worker' });
    buyer = await new FakePartner((req) =>
      req.path.endsWith('/ping') ? { status: 200, body: { bid: 10 }, delayMs: BID_MS } : { status: 200 },
    ).start();
    source = await stack.createSource({ payout: { model: 'cpl', amount: '3' } });
    const partner = await stack.createPartner({ url: buyer.url, ping: { url: `${buyer.url}/ping`, timeoutMs: 5000 } });
    await stack.createRoute({
      name: 'late-auction',
      priority: 10,
      strategy: 'auction',
      auction: { timeoutMs: DEADLINE_MS },
      filters: { sourceIds: [source.id] },
      partners: [{ partnerId: partner.id }],
    });
  }, 60_000);
  afterAll(async () => {
    redis?.disconnect();
    await buyer?.stop();
    await stack.stop();
  });

  const ping = async () => {
    const started = Date.now();
    const res = await stack.request('POST', '/v1/pings', { key: source.apiKey, body: { geo: 'US' } });
    return { status: res.status, body: res.body as { status: string; pingId: string }, ms: Date.now() - started };
  };
  const pingsOfBuyer = () => buyer.requests.filter((r) => r.path.endsWith('/ping')).length;
  const listed = () => redis.llen(pingListKey(stack.prefix, 0));

  it('drops a ping taken after the ingest’s deadline: no auction, the ingest’s no bid kept, counted as a no bid', async () => {
    // No worker: the ingest answers no bid at its deadline, and the ping is still in its list.
    const late = await ping();
    expect(late.status).toBe(200);
    expect(late.body.status).toBe('no_bid');
    expect(late.ms).toBeGreaterThanOrEqual(DEADLINE_MS);
    expect(await listed()).toBe(1);

    await stack.startWorker();
    await waitFor(async () => (await listed()) === 0, { what: 'the late ping taken' });
    const [row] = await waitForRow(late.body.pingId);
    expect(row).toEqual({ status: 'no_bid' });
    // Dropped: its buyer was never asked, and its binding is the ingest's no bid.
    expect(pingsOfBuyer()).toBe(0);
    const bound = await new PingBindings(redis, stack.prefix).read(late.body.pingId);
    expect(bound?.status).toBe('no_bid');

    // A ping in time is auctioned as ever.
    const inTime = await ping();
    expect(inTime.body.status).toBe('bid');
    expect(pingsOfBuyer()).toBe(1);
  }, 60_000);

  it('answers no bid at the deadline for a ping whose worker died with it, and never runs it again', async () => {
    await stack.worker?.stop();
    const dying = new ServiceProcess('worker', { ...stack.env(), LOG_LEVEL: 'info' });
    await dying.start();
    const asked = pingsOfBuyer();
    const answer = ping();
    // The worker has taken the ping and asked the buyer: killed mid-auction.
    await waitFor(() => pingsOfBuyer() === asked + 1, { what: 'the buyer asked' });
    await dying.stop('SIGKILL');
    const lost = await answer;
    expect(lost.body.status).toBe('no_bid');
    expect(lost.ms).toBeGreaterThanOrEqual(DEADLINE_MS);
    expect(lost.ms).toBeLessThan(DEADLINE_MS + 1_000);
    expect(await listed()).toBe(0);

    // Another worker answers the next ping, and only that one (lists are first in, first out).
    await stack.startWorker();
    const next = await ping();
    expect(next.body.status).toBe('bid');
    expect(pingsOfBuyer()).toBe(asked + 2);
    const bound = await new PingBindings(redis, stack.prefix).read(lost.body.pingId);
    expect(bound?.status).toBe('no_bid');
  }, 90_000);

  async function waitForRow(pingId: string) {
    return waitFor(
      async () => {
        const rows = await stack.db.$queryRaw<
          { status: string }[]
        >`SELECT status FROM pings WHERE id = ${pingId}::uuid`;
        return rows.length > 0 ? rows : undefined;
      },
      { what: 'the late ping in the stats' },
    );
  }
});
