import { ConfigError, createLogger, loadWorkerConfig, redisTarget, type WorkerConfig } from '@leadrouter/config';
import { closeDb, createDb } from '@leadrouter/db';
import { createAgents } from '@leadrouter/delivery';
import { createRedis, Queues, refuseClusterNode, SharedCaches } from '@leadrouter/queue';
import type { WorkerDeps } from './deps.js';
import { startHealthServer } from './health.js';
import { startWorker } from './worker.js';
import { registerWorkerGauges } from './gauges.js';
import { registerMoneyGauges } from './money-gauges.js';
import { createWorkerMetrics } from '@leadrouter/metrics';

const SHUTDOWN_DEADLINE_MS = 25_000;

async function main(): Promise<void> {
  let config: WorkerConfig;
  try {
    config = loadWorkerConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`leadrouter worker: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger({ name: 'worker', level: config.LOG_LEVEL, pretty: config.NODE_ENV === 'development' });
  if (config.NODE_ENV === 'production' && config.METRICS_TOKEN === undefined) {
    log.warn('METRICS_TOKEN is not set: /metrics is open, and its labels name every source and partner');
  }
  const db = createDb({
    databaseUrl: config.DATABASE_URL,
    preparedStatements: config.DATABASE_PREPARED_STATEMENTS,
    poolMax: config.DATABASE_POOL_SIZE,
    onConnectionError: (err) =>
      log.warn({ err: { message: err.message } }, 'a PostgreSQL connection failed; dropped (its work is retried)'),
  });
  const target = redisTarget(config);
  const redis = createRedis({ target, role: 'worker' });
  redis.on('error', () => undefined);
  await refuseClusterNode(redis, config.REDIS_URL, (line) => {
    console.error(`leadrouter worker: ${line}`);
    process.exit(1);
  });
  const producer = createRedis({ target, role: 'worker' });
  producer.on('error', () => undefined);
  const metrics = createWorkerMetrics();
  const deps: WorkerDeps = {
    config,
    db,
    redis,
    queues: new Queues(producer, config.QUEUE_PREFIX, { partitions: config.QUEUE_PARTITIONS }),
    log,
    now: () => new Date(),
    random: Math.random,
    agents: createAgents({ allowPrivate: config.ALLOW_PRIVATE_DESTINATIONS }),
    metrics,
    caches: new SharedCaches(producer, target, config.QUEUE_PREFIX, (err) =>
      log.warn({ err: { message: err.message } }, 'cache invalidation'),
    ),
  };
  registerWorkerGauges(deps, metrics);
  registerMoneyGauges(deps, metrics);

  const worker = startWorker(deps);
  const health = await startHealthServer(deps, config.WORKER_PORT).catch((err: Error) => {
    console.error(`leadrouter worker: cannot listen on port ${config.WORKER_PORT}: ${err.message}`);
    process.exit(1);
  });
  log.info({ port: health.port, concurrency: config.WORKER_CONCURRENCY }, 'worker started');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'worker stopping: finishing in-flight jobs');
    const deadline = setTimeout(() => {
      log.error('worker did not stop in time; exiting (unfinished jobs are retried by another worker)');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    await worker.stop();
    await health.close();
    await deps.queues.close();
    deps.caches?.close();
    redis.disconnect();
    producer.disconnect();
    await closeDb(db);
    log.info('worker stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  // Started with an IPC channel (the quick start does): its closing means the parent is gone, even by kill -9.
  if (process.channel) process.once('disconnect', () => void shutdown('disconnect'));
}

void main();
