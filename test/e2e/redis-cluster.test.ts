import { spawn } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import { run as leadrouter } from '@leadrouter/cli';
import { TS_NODE_ARGS } from '../support/process';
import { OwnRedisCluster } from '../support/redis-cluster';

const ROOT = path.resolve(__dirname, '../..');

/** Runs a service until it exits; its exit code, and what it wrote on stdout (logs) and stderr. */
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
  // A process that started after all is stopped, not left behind (its exit code is then null).
  const deadline = setTimeout(() => child.kill('SIGKILL'), 20_000);
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
    it('stops the ingest and the worker at start with one line saying to use REDIS_CLUSTER_NODES', async () => {
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
    });

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
});
