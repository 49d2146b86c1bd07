// `node services/ingest/dist/main.js | head -1`: once the reader of stdout is
// gone, every write to it fails with EPIPE. The services must go on without
// logs and still stop on SIGTERM with exit code 0 (docs/scaling.md "Shutting
// down": "exit 0 within 30 s"), in both log formats: JSON (production) and pretty (development, the
// quick start's). Before the logger wrote synchronously, the JSON logger's exit
// flush retried its EPIPE forever and the pretty one's worker thread stopped
// reading, so the exit waited 10 s and then failed.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Redis } from 'ioredis';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { freePort, TS_NODE_ARGS } from '../support/process';
import { waitFor } from '../support/wait';

const ROOT = path.resolve(__dirname, '../..');
const ADMIN_TOKEN = 'broken-stdout-admin-token-0123456789';

describe('a service whose stdout pipe is broken', () => {
  let database: TestDatabase;
  const running = new Set<ChildProcess>();
  const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  const prefix = `test-${randomBytes(6).toString('hex')}`;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    for (const proc of running) proc.kill('SIGKILL');
    await database.drop();
    const redis = new Redis(redisUrl, { lazyConnect: true });
    await redis.connect();
    const keys = await redis.keys(`${prefix}-*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it.each([
    ['ingest', 'production'],
    ['ingest', 'development'],
    ['worker', 'production'],
    ['worker', 'development'],
  ] as const)(
    '%s (%s logs) still stops on SIGTERM with exit code 0',
    async (service, nodeEnv) => {
      const port = await freePort();
      const proc = spawn(process.execPath, [...TS_NODE_ARGS, path.join(ROOT, `services/${service}/src/main.ts`)], {
        cwd: ROOT,
        env: {
          ...process.env,
          NODE_ENV: nodeEnv,
          LOG_LEVEL: 'info',
          DATABASE_URL: database.url,
          REDIS_URL: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
          QUEUE_PREFIX: `test-broken-stdout-${service}-${nodeEnv}`,
          ADMIN_TOKEN,
          [service === 'ingest' ? 'PORT' : 'WORKER_PORT']: String(port),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      running.add(proc);
      let stderr = '';
      proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        proc.once('exit', (code, signal) => resolve({ code, signal })),
      );

      // `| head -1`: the first line is read, then the reading end is closed.
      await new Promise<void>((resolve) => proc.stdout.once('data', () => resolve()));
      proc.stdout.destroy();
      const base = `http://127.0.0.1:${port}`;
      await waitFor(
        async () => {
          if (proc.exitCode !== null) throw new Error(`${service} exited: ${stderr}`);
          return (await fetch(`${base}/healthz`)).ok;
        },
        { timeoutMs: 30_000, what: `${service} /healthz` },
      );
      // More lines to write into the broken pipe (the ingest logs every request).
      for (let i = 0; i < 20; i++) await fetch(`${base}/readyz`);

      const stopAsked = Date.now();
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
      const exit = await exited;
      clearTimeout(timer);
      running.delete(proc);
      expect({ ...exit, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
      expect(Date.now() - stopAsked).toBeLessThan(30_000);
    },
    70_000,
  );
});
