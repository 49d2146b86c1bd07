import { spawn } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import { run as leadrouter } from '@leadrouter/cli';
import calculateSlot from 'cluster-key-slot';
import { pingListKey, subQueueNames, PING_QUEUE, QUEUES } from '@leadrouter/queue';
import { startHealthServer } from '../../services/worker/src/health';
import { FakePartner } from '../support/partner';
import { TS_NODE_ARGS } from '../support/process';
import { OwnRedisCluster } from '../support/redis-cluster';
import { ADMIN_TOKEN, sampleLead, TestStack } from '../support/stack';

const ROOT = path.resolve(__dirname, '../..');

/** Runs a service until it exits; its exit code, and what it wrote on stdout (logs) and stderr. */
const START_GUARD_MS = 75_000;

async function runToExit(service: 'ingest' | 'worker', env: Record<string, string>) {
  const child = spawn(process.execPath, [...TS_NODE_ARGS, `services/${service}/src/main.ts`], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, NODE_ENV: 'test', ADMIN_TOKEN: 'test-admin-token-0123456789abcdef', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // A process that started after all is stopped, not left behind (its exit code is then null). Starting from the
  // sources took over 20 s in the full suite on this 2-core machine: the guard is well past that.
  const deadline = setTimeout(() => child.kill('SIGKILL'), START_GUARD_MS);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(deadline);
  return { code, stdout, stderr };
}

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** One shared Redis Cluster (three masters, three replicas) for the file. */
describe('leadrouter on a Redis Cluster', () => {
  const cluster = new OwnRedisCluster();
  beforeAll(() => cluster.start(), 60_000);
  afterAll(() => cluster.destroy());

  describe('REDIS_URL naming a node of the cluster', () => {
    it(
      'stops the ingest and the worker at start with one line saying to use REDIS_CLUSTER_NODES',
      async () => {
        const [master, replica] = [
          await cluster.masterOfSlot(0),
          (await cluster.topology()).find((n) => n.role === 'replica')!.port,
        ];
        const cases = [
          { service: 'ingest', url: `redis://127.0.0.1:${master}`, shown: `redis://127.0.0.1:${master}` },
          // A password (the node takes none and ignores it) is never printed.
          {
            service: 'worker',
            url: `redis://:s3cret-pw@127.0.0.1:${replica}`,
            shown: `redis://:***@127.0.0.1:${replica}`,
          },
        ] as const;
        const runs = await Promise.all(cases.map(({ service, url }) => runToExit(service, { REDIS_URL: url })));
        runs.forEach(({ code, stdout, stderr }, i) => {
          const { service, shown } = cases[i]!;
          expect({ service, code }).toEqual({ service, code: 1 });
          expect(stderr.trimEnd().split('\n')).toEqual([
            `leadrouter ${service}: REDIS_URL=${JSON.stringify(shown)} is a node of a Redis Cluster: set REDIS_CLUSTER_NODES=host:port,host:port,… to the cluster's nodes instead (REDIS_URL is for one Redis server)`,
          ]);
          expect(stdout + stderr).not.toContain('s3cret-pw');
          // Refused before it started anything: no line says it listens.
          expect(stdout).not.toMatch(/listening|worker started/);
        });
      },
      START_GUARD_MS + 15_000,
    );

    it('stops the CLI with one line, before it enqueues anything', async () => {
      const stdout = new Capture();
      const stderr = new Capture();
      const code = await leadrouter(['node', 'leadrouter', 'dlq', 'retry', '--all'], {
        stdout,
        stderr,
        env: { ...process.env, REDIS_URL: `redis://127.0.0.1:${await cluster.masterOfSlot(0)}` },
      });
      expect(code).toBe(1);
      expect(stderr.text.trimEnd().split('\n')).toEqual([
        expect.stringMatching(/^leadrouter: REDIS_URL=".*" is a node of a Redis Cluster: set REDIS_CLUSTER_NODES=/),
      ]);
      expect(stdout.text).toBe('');
    });
  });

  describe('the lead flow (ingest, worker and a partner, queues split in three)', () => {
    const PARTITIONS = 3;
    let stack: TestStack;
    let partner: FakePartner;
    let source: { id: string; apiKey: string };
    beforeAll(async () => {
      stack = await new TestStack({
        clusterNodes: cluster.nodesEnv,
        env: { QUEUE_PARTITIONS: String(PARTITIONS) },
      }).start();
      partner = await new FakePartner().start();
      source = await stack.createSource();
      const created = await stack.createPartner({ url: partner.url });
      await stack.createRoute({ priority: 1, partners: [{ partnerId: created.id }] });
    }, 60_000);
    afterAll(async () => {
      await partner?.stop();
      await stack?.stop();
    });

    const post = async (n: number, lead: Record<string, unknown> = {}) => {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const res = await stack.request('POST', '/v1/leads', {
          key: source.apiKey,
          body: sampleLead({ phone: `+1 415 555 ${String(2000 + i)}`, email: `c${i}@example.com`, ...lead }),
        });
        expect(res.status).toBe(202);
        ids.push(res.body.id);
      }
      return ids;
    };

    it('delivers every lead once, its Redis commands and keys spread over the three masters', async () => {
      const LEADS = 60;
      const before = await cluster.commandsByMaster();
      const ids = await post(LEADS);
      for (const id of ids) expect({ id, status: await stack.finalStatus(id) }).toEqual({ id, status: 'delivered' });
      const after = await cluster.commandsByMaster();
      expect(partner.requests.map((r) => r.headers['x-lead-id']).sort()).toEqual([...ids].sort());

      // Each master runs a fair share of the commands (before sub-queues and tags, one ran them all).
      const sum = (calls: Record<string, number> = {}) => Object.values(calls).reduce((a, b) => a + b, 0);
      const perLead = [...after].map(([port, calls]) => ({
        port,
        perLead: (sum(calls) - sum(before.get(port))) / LEADS,
      }));
      const total = perLead.reduce((sum, m) => sum + m.perLead, 0);
      // docs/scaling.md's figures: `CLUSTER_REPORT=1 npx jest test/e2e/redis-cluster`.
      if (process.env.CLUSTER_REPORT) process.stdout.write(`${JSON.stringify({ commandsPerLead: perLead, total })}\n`);
      expect(perLead).toHaveLength(3);
      for (const m of perLead) expect({ ...m, share: m.perLead / total > 0.1 }).toEqual({ ...m, share: true });

      // Every sub-queue's keys on one master; the sub-queues on all three.
      const keys = await cluster.keysByMaster(`${stack.prefix}:*`);
      const names = Object.values(QUEUES).flatMap((q) => subQueueNames(q, PARTITIONS));
      const mastersOf = (name: string) =>
        [...keys].filter(([, list]) => list.some((k) => k.startsWith(`${stack.prefix}:${name}:`))).map(([p]) => p);
      for (const name of names) expect({ name, masters: mastersOf(name).length }).toEqual({ name, masters: 1 });
      expect(new Set(names.flatMap(mastersOf)).size).toBe(3);
    });

    it('is ready on both processes, and shows the sub-queues in Bull Board and the admin API', async () => {
      const ingest = await stack.request('GET', '/readyz');
      expect(ingest).toMatchObject({ status: 200, body: { checks: { redis: true, postgres: true } } });
      const health = await startHealthServer(stack.workerDeps!, 0);
      try {
        const worker = await fetch(`http://127.0.0.1:${health.port}/readyz`);
        expect({ status: worker.status, body: await worker.json() }).toEqual({
          status: 200,
          body: { status: 'ok', checks: { redis: true, postgres: true } },
        });
      } finally {
        await health.close();
      }
      const board = await stack.request('GET', '/admin/queues/api/queues', {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(board.status).toBe(200);
      expect(board.body.queues).toHaveLength(Object.values(QUEUES).length * PARTITIONS);
      const depths = await stack.admin('GET', '/queues');
      expect(depths.status).toBe(200);
      // The pings' lists are counted too (ADR 0032), not shown in Bull Board: they are not BullMQ queues.
      expect(depths.body.queues.map((q: { name: string }) => q.name)).toEqual([...Object.values(QUEUES), PING_QUEUE]);
    });

    it('answers pings from the three lists, each list on a master of its own', async () => {
      const PINGS = 12;
      const buyer = await new FakePartner((req) =>
        req.path.endsWith('/ping') ? { status: 200, body: { bid: 7 } } : { status: 200 },
      ).start();
      try {
        const pinging = await stack.createSource({ payout: { model: 'cpl', amount: '2' } });
        const created = await stack.createPartner({
          url: buyer.url,
          ping: { url: `${buyer.url}/ping`, timeoutMs: 5000 },
        });
        await stack.createRoute({
          priority: 20,
          strategy: 'auction',
          auction: { timeoutMs: 5_000 },
          filters: { sourceIds: [pinging.id] },
          partners: [{ partnerId: created.id }],
        });
        const lists = Array.from({ length: PARTITIONS }, (_, i) => pingListKey(stack.prefix, i));
        const masters = await Promise.all(lists.map((key) => cluster.masterOfSlot(calculateSlot(key))));
        expect(new Set(masters).size).toBe(PARTITIONS);
        const before = await cluster.commandsByMaster();
        const answers = await Promise.all(
          Array.from({ length: PINGS }, () =>
            stack.request('POST', '/v1/pings', { key: pinging.apiKey, body: { geo: 'US' } }),
          ),
        );
        expect(answers.map((a) => [a.status, a.body.status, a.body.bid])).toEqual(Array(PINGS).fill([200, 'bid', 2]));
        // Each ping auctioned once, and each list (one in turn per ping) took its share on its master.
        expect(buyer.requests.filter((r) => r.path.endsWith('/ping'))).toHaveLength(PINGS);
        const after = await cluster.commandsByMaster();
        for (const port of masters) {
          const pushed = (after.get(port)?.lpush ?? 0) - (before.get(port)?.lpush ?? 0);
          expect({ port, pushed: pushed >= PINGS / PARTITIONS }).toEqual({ port, pushed: true });
        }
      } finally {
        await buyer.stop();
      }
    });

    it("counts a source's rate limit across the cluster", async () => {
      const limited = await stack.createSource({ rateLimitPerMinute: 3 });
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await stack.request('POST', '/v1/leads', {
          key: limited.apiKey,
          body: sampleLead({ phone: `+1 415 555 ${String(3000 + i)}`, email: `r${i}@example.com` }),
        });
        statuses.push(res.status);
      }
      expect(statuses).toEqual([202, 202, 202, 429]);
    });

    it('retries a dead letter from the CLI, which enqueues on the cluster', async () => {
      const failing = await new FakePartner(() => ({ status: 500 })).start();
      try {
        const created = await stack.createPartner({ url: failing.url, maxAttempts: 1 });
        await stack.createRoute({ priority: 5, filters: { geo: ['CA'] }, partners: [{ partnerId: created.id }] });
        const [id] = await post(1, { geo: 'CA' });
        expect(await stack.finalStatus(id!)).toBe('dead_lettered');
        failing.respondWith(() => ({ status: 200, body: { accepted: true } }));
        const stdout = new Capture();
        const stderr = new Capture();
        const code = await leadrouter(['node', 'leadrouter', 'dlq', 'retry', '--partner', created.id], {
          stdout,
          stderr,
          env: {
            ...process.env,
            DATABASE_URL: stack.database.url,
            REDIS_CLUSTER_NODES: cluster.nodesEnv,
            QUEUE_PREFIX: stack.prefix,
            QUEUE_PARTITIONS: String(PARTITIONS),
          },
        });
        expect({ code, stdout: stdout.text }).toEqual({ code: 0, stdout: 'requeued 1 of 1 dead letter\n' });
        expect(stderr.text).not.toMatch(/leadrouter:|Redis/);
        expect(await stack.finalStatus(id!)).toBe('delivered');
      } finally {
        await failing.stop();
      }
    });
  });
});
