import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import {
  createLogger,
  loadIngestConfig,
  loadWorkerConfig,
  redisTarget,
  type IngestConfig,
  type Logger,
  type WorkerConfig,
} from '@leadrouter/config';
import { closeDb, createDb, type Db } from '@leadrouter/db';
import { createAgents, destroyAgents } from '@leadrouter/delivery';
import { createIngestMetrics, createWorkerMetrics } from '@leadrouter/metrics';
import { createRedis, OutcomeWaiters, PingBindings, PingReplies, Queues, SharedCaches } from '@leadrouter/queue';
import { routingRules, RULES_CACHE_TTL_MS } from '@leadrouter/lifecycle';
import { createApp } from '../../services/ingest/src/app';
import { SourceRateLimits } from '../../services/ingest/src/http/rate-limit';
import { SignInThrottle } from '../../services/ingest/src/http/sign-in-throttle';
import { AuthFailureLimits } from '../../services/ingest/src/http/auth-failures';
import { RejectionLog } from '../../services/ingest/src/leads/rejections';
import { startWorker, type RunningWorker } from '../../services/worker/src/worker';
import type { WorkerDeps } from '../../services/worker/src/deps';
import { createTestDatabase, type TestDatabase } from './database';
import { deleteClusterKeys, deleteKeys, testKeyPrefix } from './redis-keys';
import { waitFor } from './wait';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface StackOptions {
  redisUrl?: string;
  /** A Redis Cluster (`host:port,…`) instead of a server: REDIS_CLUSTER_NODES. */
  clusterNodes?: string;
  /** Start the worker too (default true). */
  worker?: boolean;
  env?: Record<string, string>;
  /** Keep every log line (at debug level) in `logLines`, to check what the services log. */
  captureLogs?: boolean;
  /** How often the ingest writes its sums of rejections without a valid key (default: every minute, as in production). */
  rejectionFlushMs?: number;
}

/**
 * An ingest app and a worker, in this process, on a database of their own and
 * a Redis queue prefix of their own: what one test file needs for real HTTP
 * against real Redis and PostgreSQL.
 */
export class TestStack {
  database!: TestDatabase;
  db!: Db;
  url = '';
  /** The queue prefix: its keys are deleted by `stop()`. */
  prefix = testKeyPrefix();
  ingestConfig!: IngestConfig;
  workerConfig!: WorkerConfig;
  worker?: RunningWorker;
  workerDeps?: WorkerDeps;
  /** The ingest's metrics and rejection log, to read counts and write pending sums (`flush()`). */
  readonly metrics = createIngestMetrics({ processMetrics: false });
  rejections!: RejectionLog;
  private server?: Server;
  private closers: (() => unknown)[] = [];

  /** Log lines of both services, when `captureLogs` is set. */
  readonly logLines: string[] = [];

  constructor(private readonly opts: StackOptions = {}) {}

  /** The services' own logger (with its redaction), writing to `logLines` or nowhere. */
  private logger(name: string): Logger {
    if (!this.opts.captureLogs) return createLogger({ name, level: this.env().LOG_LEVEL!, pretty: false });
    const sink = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        this.logLines.push(chunk.toString());
        done();
      },
    });
    return createLogger({ name, level: 'debug', pretty: false }, sink);
  }

  env(): Record<string, string> {
    return {
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      DATABASE_URL: this.database.url,
      REDIS_URL: this.opts.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: this.prefix,
      ADMIN_TOKEN,
      ALLOW_PRIVATE_DESTINATIONS: 'true',
      SWEEP_INTERVAL_MS: '500',
      ...(this.opts.clusterNodes ? { REDIS_CLUSTER_NODES: this.opts.clusterNodes } : {}),
      ...this.opts.env,
    };
  }

  async start(): Promise<this> {
    this.database = await createTestDatabase();
    const env = this.env();
    this.ingestConfig = loadIngestConfig(env);
    this.workerConfig = loadWorkerConfig(env);
    const log = this.logger('ingest');
    this.db = createDb({ databaseUrl: this.database.url, connectionTimeoutMs: 2000 });
    const target = redisTarget(this.ingestConfig);
    const producer = createRedis({ target, role: 'producer' });
    producer.on('error', () => undefined);
    const queues = new Queues(producer, this.prefix, { partitions: this.ingestConfig.QUEUE_PARTITIONS });
    this.closers.push(
      () => producer.disconnect(),
      () => queues.close(),
    );

    const agents = createAgents({ allowPrivate: this.ingestConfig.ALLOW_PRIVATE_DESTINATIONS });
    this.closers.push(() => destroyAgents(agents));
    // The caches the services run with (ADR 0009), so the tests see what production does.
    const caches = new SharedCaches(producer, target, this.prefix);
    this.closers.push(() => caches.close());
    // Waiting for leads' outcomes (`Prefer: wait`, ADR 0033), as the ingest does.
    const outcomes = new OutcomeWaiters(target, this.prefix);
    this.closers.push(() => outcomes.close());
    // Its pings' answers on its own channel (ADR 0032), as the ingest gets them.
    const pingReplies = new PingReplies(target, this.prefix);
    this.closers.push(() => pingReplies.close());
    this.rejections = new RejectionLog(this.db, log, { flushIntervalMs: this.opts.rejectionFlushMs });
    const rejections = this.rejections;
    this.closers.push(() => rejections.close());
    const app = createApp({
      caches,
      outcomes,
      pings: new PingBindings(producer, this.prefix),
      pingReplies,
      config: this.ingestConfig,
      db: this.db,
      queues,
      log,
      rateLimits: new SourceRateLimits(producer, this.prefix),
      signInThrottle: new SignInThrottle(producer, this.prefix),
      agents,
      metrics: this.metrics,
      rejections,
      authFailures: new AuthFailureLimits(producer, this.prefix, this.ingestConfig.AUTH_FAILURES_PER_MINUTE),
    });
    this.server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;

    if (this.opts.worker !== false) await this.startWorker();
    return this;
  }

  /** Starts the worker (again), with `env` over the stack's settings (e.g. another QUEUE_PARTITIONS). */
  async startWorker(env: Record<string, string> = {}): Promise<RunningWorker> {
    if (Object.keys(env).length > 0) this.workerConfig = loadWorkerConfig({ ...this.env(), ...env });
    const target = redisTarget(this.workerConfig);
    const redis = createRedis({ target, role: 'worker' });
    redis.on('error', () => undefined);
    const workerQueues = new Queues(redis, this.prefix, { partitions: this.workerConfig.QUEUE_PARTITIONS });
    const agents = createAgents({ allowPrivate: this.workerConfig.ALLOW_PRIVATE_DESTINATIONS });
    const caches = new SharedCaches(redis, target, this.prefix);
    this.workerDeps = {
      caches,
      config: this.workerConfig,
      db: this.db,
      redis,
      queues: workerQueues,
      log: this.logger('worker'),
      now: () => new Date(),
      random: Math.random,
      agents,
      metrics: createWorkerMetrics({ processMetrics: false }),
    };
    const worker = startWorker(this.workerDeps);
    this.worker = worker;
    this.closers.push(async () => {
      await worker.stop();
      await workerQueues.close();
      caches.close();
      redis.disconnect();
      destroyAgents(agents);
    });
    return worker;
  }

  /**
   * Worker deps for calling a processor or the sweeper directly, as a worker
   * process builds them (silent log, private destinations allowed); closed by
   * `stop()`.
   */
  directWorkerDeps(opts: { now?: () => Date } = {}): WorkerDeps {
    const redis = createRedis({ target: redisTarget(this.workerConfig), role: 'worker' });
    redis.on('error', () => undefined);
    const queues = new Queues(redis, this.prefix, { partitions: this.workerConfig.QUEUE_PARTITIONS });
    const agents = createAgents({ allowPrivate: true });
    this.closers.push(async () => {
      await queues.close();
      redis.disconnect();
      destroyAgents(agents);
    });
    return {
      config: this.workerConfig,
      db: this.db,
      redis,
      queues,
      log: createLogger({ name: 'worker', level: 'silent', pretty: false }),
      now: opts.now ?? (() => new Date()),
      random: Math.random,
      agents,
    };
  }

  async stop(): Promise<void> {
    if (this.server) {
      this.server.closeAllConnections();
      await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    }
    for (const close of this.closers.reverse()) await close();
    if (this.db) await closeDb(this.db);
    await this.database?.drop();
    // Everything that wrote under the prefix is closed: its keys can go.
    if (this.database)
      await (this.opts.clusterNodes
        ? deleteClusterKeys(this.opts.clusterNodes, `${this.prefix}:*`)
        : deleteKeys(this.env().REDIS_URL!, `${this.prefix}:*`));
  }

  /** fetch against the ingest, JSON in and out. */
  async request(
    method: string,
    path: string,
    opts: { body?: unknown; rawBody?: string; key?: string; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: any; headers: Headers }> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.key) headers.authorization = `Bearer ${opts.key}`;
    let body: string | undefined = opts.rawBody;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(this.url + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }

  admin(method: string, path: string, body?: unknown) {
    return this.request(method, `/v1/admin${path}`, { key: ADMIN_TOKEN, ...(body !== undefined ? { body } : {}) });
  }

  /** Creates a source through the admin API; returns it with its one-time apiKey. */
  async createSource(input: Record<string, unknown> = {}): Promise<{ id: string; apiKey: string; name: string }> {
    const res = await this.admin('POST', '/sources', { name: `source-${randomBytes(4).toString('hex')}`, ...input });
    if (res.status !== 201) throw new Error(`createSource: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async createPartner(input: Record<string, unknown>): Promise<{ id: string; name: string; feedbackKey: string }> {
    const res = await this.admin('POST', '/partners', { name: `partner-${randomBytes(4).toString('hex')}`, ...input });
    if (res.status !== 201) throw new Error(`createPartner: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async createRoute(input: Record<string, unknown>): Promise<{ id: string }> {
    const res = await this.admin('POST', '/routes', {
      name: `route-${randomBytes(4).toString('hex')}`,
      priority: 0,
      strategy: 'priority',
      ...input,
    });
    if (res.status !== 201) throw new Error(`createRoute: ${res.status} ${JSON.stringify(res.body)}`);
    // The in-process worker learns of the route by the admin API's invalidation (ADR 0009), which travels
    // through Redis on its own (on a cluster, over the cluster's bus): a lead posted at once could otherwise be
    // routed by the rules of before (a flake seen under load). Tests post right after: they wait for the worker
    // to see the route.
    const deps = this.workerDeps;
    const created = res.body as { id: string; active?: boolean };
    if (deps && created.active !== false) {
      const { id } = created;
      await waitFor(async () => (await routingRules(deps)).routes.some((r) => r.id === id), {
        what: `the worker to see route ${id}`,
      });
      // Loaded for the look only: a test that then writes routes straight into PostgreSQL (no invalidation)
      // must not find them cached.
      deps.caches?.cache('rules', RULES_CACHE_TTL_MS).clear();
    }
    return res.body;
  }

  async leadStatus(id: string): Promise<string | undefined> {
    return (await this.db.lead.findUnique({ where: { id }, select: { status: true } }))?.status;
  }

  /** Waits until the lead has settled (neither queued nor routing); returns its final status. */
  finalStatus(id: string): Promise<string> {
    return waitFor(
      async () => {
        const s = await this.leadStatus(id);
        return s && s !== 'queued' && s !== 'routing' ? s : undefined;
      },
      { what: `lead ${id} to settle` },
    );
  }
}

export const sampleLead = (overrides: Record<string, unknown> = {}) => ({
  name: 'John Doe',
  phone: '+1 415 555 0100',
  email: 'john@example.com',
  geo: 'US',
  source: 'Facebook',
  fields: { zip: '94107', age: 42 },
  ...overrides,
});
