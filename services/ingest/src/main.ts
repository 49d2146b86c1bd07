import type { Server } from 'node:http';
import {
  ConfigError,
  createLogger,
  DEV_ADMIN_TOKEN,
  loadIngestConfig,
  redisTarget,
  type IngestConfig,
} from '@leadrouter/config';
import { closeDb, createDb } from '@leadrouter/db';
import type { DeliveryAgents } from '@leadrouter/delivery';
import {
  createRedis,
  OutcomeWaiters,
  PingBindings,
  PingReplies,
  Queues,
  refuseClusterNode,
  SharedCaches,
} from '@leadrouter/queue';
import { createIngestMetrics } from '@leadrouter/metrics';
import { createApp } from './app.js';
import { SourceRateLimits } from './http/rate-limit.js';
import { SignInThrottle } from './http/sign-in-throttle.js';
import { AuthFailureLimits } from './http/auth-failures.js';
import { RejectionLog } from './leads/rejections.js';
import { keepConnections } from './http/keep-alive.js';

const SHUTDOWN_DEADLINE_MS = 25_000;

async function main(): Promise<void> {
  let config: IngestConfig;
  try {
    config = loadIngestConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`leadrouter ingest: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger({ name: 'ingest', level: config.LOG_LEVEL, pretty: config.NODE_ENV === 'development' });
  if (config.ADMIN_TOKEN === DEV_ADMIN_TOKEN) {
    // Public, so it can be printed: it only ever works with NODE_ENV=development.
    log.warn(`ADMIN_TOKEN is not set; using the development token "${DEV_ADMIN_TOKEN}" (NODE_ENV=development only)`);
  }
  if (config.NODE_ENV === 'production' && config.METRICS_TOKEN === undefined) {
    log.warn('METRICS_TOKEN is not set: /metrics is open, and its labels name every source and partner');
  }
  const db = createDb({
    databaseUrl: config.DATABASE_URL,
    connectionTimeoutMs: 2000,
    queryTimeoutMs: 10000,
    preparedStatements: config.DATABASE_PREPARED_STATEMENTS,
    poolMax: config.DATABASE_POOL_SIZE,
    onConnectionError: (err) =>
      log.warn({ err: { message: err.message } }, 'a PostgreSQL connection failed; dropped (its work is retried)'),
  });
  const target = redisTarget(config);
  const redis = createRedis({ target, role: 'producer' });
  redis.on('error', () => undefined);
  await refuseClusterNode(redis, config.REDIS_URL, (line) => {
    console.error(`leadrouter ingest: ${line}`);
    process.exit(1);
  });
  const queues = new Queues(redis, config.QUEUE_PREFIX, { partitions: config.QUEUE_PARTITIONS });
  const rateLimits = new SourceRateLimits(redis, config.QUEUE_PREFIX);
  // Only partner tests send anything: the delivery package is loaded by the first one (ADR 0009).
  let outbound: Promise<DeliveryAgents> | undefined;
  const agents = () =>
    (outbound ??= import('@leadrouter/delivery').then((d) =>
      d.createAgents({ allowPrivate: config.ALLOW_PRIVATE_DESTINATIONS }),
    ));
  const caches = new SharedCaches(redis, target, config.QUEUE_PREFIX, (err) =>
    log.warn({ err: { message: err.message } }, 'cache invalidation'),
  );
  const outcomes = new OutcomeWaiters(target, config.QUEUE_PREFIX, (err) =>
    log.warn({ err: { message: err.message } }, 'lead outcomes subscription'),
  );
  const pingReplies = new PingReplies(target, config.QUEUE_PREFIX, (err) =>
    log.warn({ err: { message: err.message } }, 'ping replies subscription'),
  );
  const rejections = new RejectionLog(db, log);
  const authFailures = new AuthFailureLimits(redis, config.QUEUE_PREFIX, config.AUTH_FAILURES_PER_MINUTE);
  const app = createApp({
    config,
    db,
    queues,
    log,
    rateLimits,
    agents,
    caches,
    outcomes,
    pings: new PingBindings(redis, config.QUEUE_PREFIX),
    pingReplies,
    signInThrottle: new SignInThrottle(redis, config.QUEUE_PREFIX),
    metrics: createIngestMetrics(),
    rejections,
    authFailures,
  });

  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.PORT, (err?: Error) => (err ? reject(err) : resolve(s)));
  }).catch((err: Error) => {
    console.error(`leadrouter ingest: cannot listen on port ${config.PORT}: ${err.message}`);
    process.exit(1);
  });
  keepConnections(server, config.KEEP_ALIVE_TIMEOUT_SECONDS);
  log.info({ port: config.PORT }, 'ingest listening');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'ingest stopping: finishing in-flight requests');
    const deadline = setTimeout(() => process.exit(1), SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    // close() stops accepting connections but would wait for kept-alive ones, which a client sending request
    // after request would keep open forever: new requests on them are answered with `Connection: close`, and
    // connections are closed as soon as their request in flight is answered.
    server.prependListener('request', (_req, res) => res.setHeader('connection', 'close'));
    // Requests waiting for an outcome (`Prefer: wait`) answer now, with what they know.
    outcomes.close();
    pingReplies.close();
    const closeIdle = setInterval(() => server.closeIdleConnections(), 100);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    clearInterval(closeIdle);
    await rejections.close();
    await queues.close();
    caches.close();
    redis.disconnect();
    await closeDb(db);
    log.info('ingest stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  // Started with an IPC channel (the quick start does): its closing means the parent is gone, even by kill -9.
  if (process.channel) process.once('disconnect', () => void shutdown('disconnect'));
}

void main();
