import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { READY, runStatement, sqlPool } from '@leadrouter/db';
import { pingEveryShard } from '@leadrouter/queue';
import { metricsHandler } from '@leadrouter/metrics';
import type { WorkerDeps } from './deps.js';

/** /healthz (alive), /readyz (Redis and PostgreSQL reachable) and /metrics on WORKER_PORT. */
export async function startHealthServer(
  deps: WorkerDeps,
  port: number,
): Promise<{ port: number; close(): Promise<void> }> {
  const metrics = deps.metrics ? metricsHandler(deps.metrics.registry, deps.config.METRICS_TOKEN) : undefined;
  const server = http.createServer((req, res) => {
    const reply = (status: number, body: object) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.url === '/healthz') return reply(200, { status: 'ok' });
    if (req.url === '/readyz') {
      void checkReady(deps).then((checks) =>
        reply(checks.redis && checks.postgres ? 200 : 503, {
          status: checks.redis && checks.postgres ? 'ok' : 'unavailable',
          checks,
        }),
      );
      return;
    }
    if (req.url === '/metrics' && metrics) return metrics(req, res);
    reply(404, { status: 'not_found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function checkReady(deps: WorkerDeps): Promise<{ redis: boolean; postgres: boolean }> {
  const timeout = <T>(p: Promise<T>) =>
    Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000).unref())]);
  // Through node-postgres, not Prisma: a readiness probe must not load Prisma's query compiler.
  const selectOne = async () => runStatement(sqlPool(deps.db), READY, {});
  const [redis, postgres] = await Promise.all([
    // The shard of every sub-queue and every master, on both of the worker's command connections.
    timeout(Promise.all([deps.queues.ping(), pingEveryShard(deps.redis)])).then(
      () => true,
      () => false,
    ),
    timeout(selectOne()).then(
      () => true,
      () => false,
    ),
  ]);
  return { redis, postgres };
}
