import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './process';
import { waitFor } from './wait';

const run = promisify(execFile);

/** How long a master may be unreachable before the cluster fails it over (redis.conf `cluster-node-timeout`). */
export const CLUSTER_NODE_TIMEOUT_MS = 2_000;

interface Node {
  port: number;
  busPort: number;
  dir: string;
  proc?: ChildProcess;
}

/** One line of `CLUSTER NODES`: who a node is, its role and, for a master, its slot ranges. */
export interface ClusterNodeInfo {
  id: string;
  port: number;
  role: 'master' | 'replica';
  masterId?: string;
  failed: boolean;
  slots: [number, number][];
}

/**
 * A Redis Cluster of the test's own: six redis-server processes on free
 * loopback ports (three masters, three replicas) in a temporary directory,
 * joined with `redis-cli --cluster create`, no Docker. A test file starts one
 * in `beforeAll` and destroys it in `afterAll`; it may kill a master
 * (`kill(port)`) and watch its replica take over.
 */
export class OwnRedisCluster {
  private readonly root = mkdtempSync(path.join(tmpdir(), 'leadrouter-cluster-'));
  private nodes: Node[] = [];

  /** `host:port,…` of every node, as REDIS_CLUSTER_NODES takes it. */
  get nodesEnv(): string {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  }

  get ports(): number[] {
    return this.nodes.map((n) => n.port);
  }

  async start(size = 6): Promise<this> {
    // The cluster bus gets a port of its own (`cluster-port`): the default, port + 10000, may be taken or out of range.
    for (let i = 0; i < size; i++) {
      const port = await freePort();
      const busPort = await freePort();
      const dir = path.join(this.root, String(port));
      mkdirSync(dir);
      this.nodes.push({ port, busPort, dir });
    }
    await Promise.all(this.nodes.map((n) => this.spawn(n)));
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...this.nodes.map((n) => `127.0.0.1:${n.port}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ],
      { timeout: 30_000 },
    );
    await this.waitHealthy();
    return this;
  }

  private async spawn(node: Node): Promise<void> {
    node.proc = spawn(
      'redis-server',
      [
        '--port',
        String(node.port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-port',
        String(node.busPort),
        '--cluster-config-file',
        path.join(node.dir, 'nodes.conf'),
        '--cluster-node-timeout',
        String(CLUSTER_NODE_TIMEOUT_MS),
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        node.dir,
        '--logfile',
        path.join(node.dir, 'redis.log'),
      ],
      { stdio: 'ignore' },
    );
    await waitFor(() => canConnect(node.port), { what: `cluster node on ${node.port}` });
  }

  /** Runs `command` on the node at `port` alone (no cluster routing). */
  async onNode<T>(port: number, command: (redis: Redis) => Promise<T>): Promise<T> {
    const redis = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      return await command(redis);
    } finally {
      redis.disconnect();
    }
  }

  /** The cluster as the node at `port` sees it. */
  async topology(port = this.live()[0]!.port): Promise<ClusterNodeInfo[]> {
    const text = await this.onNode(port, (r) => r.call('CLUSTER', 'NODES') as Promise<string>);
    return text
      .trim()
      .split('\n')
      .map((line) => {
        const [id, address, flags, masterId, , , , , ...slots] = line.split(' ');
        const flagSet = new Set(flags!.split(','));
        return {
          id: id!,
          port: Number(address!.split('@')[0]!.split(':')[1]),
          role: flagSet.has('master') ? 'master' : 'replica',
          masterId: masterId === '-' ? undefined : masterId,
          failed: flagSet.has('fail') || flagSet.has('fail?'),
          slots: slots
            .filter((s) => !s.startsWith('['))
            .map((s) => {
              const [from, to = from] = s.split('-');
              return [Number(from), Number(to)] as [number, number];
            }),
        };
      });
  }

  /** The port of the master serving `slot` now, as the node at `port` sees it. */
  async masterOfSlot(slot: number, port?: number): Promise<number> {
    const master = (await this.topology(port)).find(
      (n) => n.role === 'master' && !n.failed && n.slots.some(([from, to]) => slot >= from && slot <= to),
    );
    if (!master) throw new Error(`no master serves slot ${slot}`);
    return master.port;
  }

  /**
   * Every live node reports a healthy cluster with all slots served, and sees
   * each master that serves slots followed by a live replica whose copy is
   * up to date (`master_link_status:up`): only then can a master be failed over.
   */
  async waitHealthy(timeoutMs = 60_000): Promise<void> {
    await waitFor(
      async () => {
        const live = this.live();
        for (const node of live) {
          const info = await this.onNode(node.port, (r) => r.call('CLUSTER', 'INFO') as Promise<string>);
          if (!/cluster_state:ok/.test(info) || !/cluster_slots_ok:16384/.test(info)) return false;
          const topology = await this.topology(node.port);
          const masters = topology.filter((n) => n.role === 'master' && !n.failed && n.slots.length > 0);
          for (const master of masters) {
            const replicas = topology.filter(
              (n) => n.masterId === master.id && !n.failed && live.some((l) => l.port === n.port),
            );
            if (replicas.length === 0) return false;
          }
        }
        for (const node of live) {
          const replication = await this.onNode(node.port, (r) => r.info('replication'));
          if (/role:slave/.test(replication) && !/master_link_status:up/.test(replication)) return false;
        }
        return true;
      },
      { timeoutMs, intervalMs: 200, what: 'the Redis Cluster to be healthy' },
    );
  }

  /** Calls of each command each master has run so far (`INFO commandstats`), by port. */
  async commandsByMaster(): Promise<Map<number, Record<string, number>>> {
    const masters = (await this.topology()).filter((n) => n.role === 'master' && !n.failed && n.slots.length > 0);
    const counts = new Map<number, Record<string, number>>();
    for (const { port } of masters) {
      const stats = await this.onNode(port, (r) => r.info('commandstats'));
      counts.set(
        port,
        Object.fromEntries([...stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1]!, Number(m[2])])),
      );
    }
    return counts;
  }

  /** Keys matching `pattern` on each master, by port. */
  async keysByMaster(pattern: string): Promise<Map<number, string[]>> {
    const masters = (await this.topology()).filter((n) => n.role === 'master' && !n.failed && n.slots.length > 0);
    const keys = new Map<number, string[]>();
    for (const { port } of masters) {
      const found: string[] = [];
      await this.onNode(port, async (r) => {
        let cursor = '0';
        do {
          const [next, batch] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
          cursor = next;
          found.push(...batch);
        } while (cursor !== '0');
      });
      keys.set(port, found);
    }
    return keys;
  }

  /** Closes every client connection on every live node at once (`CLIENT KILL TYPE …`); how many were cut. */
  async cutClients(): Promise<number> {
    const cut = await Promise.all(
      this.live().map((node) =>
        this.onNode(node.port, async (r) => {
          let n = 0;
          for (const type of ['normal', 'pubsub'])
            n += Number(await r.call('CLIENT', 'KILL', 'TYPE', type, 'SKIPME', 'yes'));
          return n;
        }),
      ),
    );
    return cut.reduce((a, b) => a + b, 0);
  }

  /** Kills the node at `port` (SIGKILL: no goodbye to the cluster). */
  async kill(port: number): Promise<void> {
    const node = this.node(port);
    const proc = node.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
    node.proc = undefined;
  }

  /** Starts a killed node again; it rejoins the cluster (as a replica, when its replica took over). */
  async restart(port: number): Promise<void> {
    await this.spawn(this.node(port));
  }

  /** The node's log, for a failing test's message. */
  log(port: number): string {
    try {
      return readFileSync(path.join(this.node(port).dir, 'redis.log'), 'utf8');
    } catch {
      return '';
    }
  }

  private node(port: number): Node {
    const node = this.nodes.find((n) => n.port === port);
    if (!node) throw new Error(`no cluster node on port ${port}`);
    return node;
  }

  private live(): Node[] {
    return this.nodes.filter((n) => n.proc && n.proc.exitCode === null && n.proc.signalCode === null);
  }

  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.kill(n.port)));
    rmSync(this.root, { recursive: true, force: true });
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
