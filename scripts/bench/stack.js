// The benchmark's own stack: a fresh database on the local PostgreSQL
// (leadrouter_bench_<ts>, migrated, dropped at the end), its own redis-server
// on a free port, and the production processes from dist/ — ingest, worker —
// plus the loopback partners and the bare Express baseline, each in a process
// of its own.
'use strict';
const { spawn, fork, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');
const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/leadrouter';

/** The Prisma client when schema.prisma is newer than it, then tsc -b (incremental: well under a second when nothing changed). */
function build(log) {
  const schema = path.join(ROOT, 'prisma/schema.prisma');
  const client = path.join(ROOT, 'packages/db/src/generated/prisma/client.ts');
  const run = (what, args) => {
    log(what);
    execFileSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  };
  if (!fs.existsSync(client) || fs.statSync(client).mtimeMs < fs.statSync(schema).mtimeMs) {
    run('generating the Prisma client', [path.join(ROOT, 'scripts/prisma-generate.js'), '--quiet']);
  }
  run('building (tsc -b)', [require.resolve('typescript/bin/tsc', { paths: [ROOT] }), '-b']);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function poll(probe, { timeoutMs = 30_000, intervalMs = 100, what }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A child process whose output is kept (the last 20 kB) for the error message when it dies. */
class Child {
  constructor(label, proc) {
    this.label = label;
    this.proc = proc;
    this.output = '';
    // BENCH_CHILD_LOGS=<dir>: each child's whole output is also written there (<label>-<pid>.log), for a post-mortem.
    const dir = process.env.BENCH_CHILD_LOGS;
    const file = dir ? fs.createWriteStream(path.join(dir, `${label.replace(/\W/g, '_')}-${proc.pid}.log`)) : null;
    const keep = (d) => {
      file?.write(d);
      this.output = (this.output + d.toString()).slice(-20_000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid() {
    return this.proc.pid;
  }

  get alive() {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Sends `signal` and waits for the exit (SIGKILL after 30 s). */
  async stop(signal = 'SIGTERM') {
    if (!this.alive) return this.exited;
    this.proc.kill(signal);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 30_000);
    const status = await this.exited;
    clearTimeout(timer);
    return status;
  }
}

/** A forked helper (partner, bare Express) that says `ready` with its port over IPC. */
class Helper extends Child {
  static async start(label, script, env = {}) {
    const proc = fork(path.join(__dirname, script), [], {
      env: { ...process.env, NODE_ENV: 'production', ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const helper = new Helper(label, proc);
    helper.port = await new Promise((resolve, reject) => {
      proc.once('message', (m) => resolve(m.port));
      proc.once('exit', (code) => reject(new Error(`${label} exited ${code}: ${helper.output}`)));
    });
    helper.url = `http://127.0.0.1:${helper.port}`;
    return helper;
  }

  /** Asks over IPC (with the message's other fields in `extra`); resolves with the answer of the same type. */
  ask(type, extra = {}) {
    return new Promise((resolve) => {
      const onMessage = (m) => {
        if (m.type !== type) return;
        this.proc.off('message', onMessage);
        resolve(m);
      };
      this.proc.on('message', onMessage);
      this.proc.send({ ...extra, type });
    });
  }
}

class BenchStack {
  constructor({ log }) {
    this.log = log;
    // With the pid: two benches started in the same second (other engineers' runs) must not share a database.
    this.stamp = `${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}_${process.pid}`;
    this.children = new Set();
  }

  async start() {
    const base = new URL(process.env.DATABASE_URL || DEFAULT_DATABASE_URL);
    base.pathname = `/leadrouter_bench_${this.stamp}`;
    this.databaseUrl = base.toString();
    this.databaseName = `leadrouter_bench_${this.stamp}`;
    const { ensureDatabase, applyMigrations } = require('@leadrouter/db');
    await ensureDatabase(this.databaseUrl);
    await applyMigrations({ databaseUrl: this.databaseUrl, log: () => undefined });
    this.log(`database ${this.databaseName} created and migrated`);
    this.databases = [this.databaseName];

    await this.startRedis();
    const pg = require('pg');
    this.pg = new pg.Pool({ connectionString: this.databaseUrl, max: 2 });
    const { Redis } = require('ioredis');
    this.redis = new Redis(this.redisUrl, { maxRetriesPerRequest: 1 });
  }

  /** Another database of this run (`<name>_<suffix>`), created and migrated, dropped with the run's; its URL. */
  async createDatabase(suffix) {
    const url = new URL(this.databaseUrl);
    const name = `${this.databaseName}_${suffix}`;
    url.pathname = `/${name}`;
    const { ensureDatabase, applyMigrations } = require('@leadrouter/db');
    await ensureDatabase(url.toString());
    await applyMigrations({ databaseUrl: url.toString(), log: () => undefined });
    this.databases.push(name);
    this.log(`database ${name} created and migrated`);
    return url.toString();
  }

  /** Points what starts from now on (services, the operator's ingest, `this.pg`) at the database `url`. */
  async useDatabase(url) {
    if (url === this.databaseUrl) return;
    await this.operator?.stop();
    this.operator = undefined;
    await this.pg.end();
    this.databaseUrl = url;
    const pg = require('pg');
    this.pg = new pg.Pool({ connectionString: url, max: 2 });
  }

  async startRedis() {
    this.redisDir = fs.mkdtempSync(path.join(os.tmpdir(), 'leadrouter-bench-redis-'));
    this.redisPort = await freePort();
    const args = ['--port', String(this.redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    let proc;
    try {
      proc = spawn('redis-server', [...args, '--dir', this.redisDir], { stdio: ['ignore', 'pipe', 'pipe'] });
      await new Promise((resolve, reject) => {
        proc.once('spawn', resolve);
        proc.once('error', reject);
      });
    } catch (err) {
      throw new Error(`the benchmark starts its own redis-server, and none is on the PATH (${err.message})`);
    }
    this.redisChild = new Child('redis-server', proc);
    this.redisUrl = `redis://127.0.0.1:${this.redisPort}`;
    await poll(
      () =>
        new Promise((resolve) => {
          const s = net.connect(this.redisPort, '127.0.0.1', () => (s.destroy(), resolve(true)));
          s.once('error', () => resolve(false));
        }),
      { what: 'redis-server' },
    );
    this.log(`redis-server on port ${this.redisPort}`);
  }

  env(extra = {}) {
    return {
      ...process.env,
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      DATABASE_URL: this.databaseUrl,
      REDIS_URL: this.redisUrl,
      QUEUE_PREFIX: 'bench',
      ADMIN_TOKEN,
      ALLOW_PRIVATE_DESTINATIONS: 'true',
      ...extra,
    };
  }

  /** A production process from dist/ (`ingest` or `worker`), ready when /healthz answers. */
  async startService(service, { env = {}, nodeArgs = [] } = {}) {
    const port = await freePort();
    const portVar = service === 'ingest' ? 'PORT' : 'WORKER_PORT';
    const proc = spawn(process.execPath, [...nodeArgs, path.join(ROOT, `services/${service}/dist/main.js`)], {
      cwd: ROOT,
      env: this.env({ ...env, [portVar]: String(port) }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const child = this.own(new Child(service, proc));
    child.url = `http://127.0.0.1:${port}`;
    await poll(
      async () => {
        if (!child.alive) throw new Error(`${service} exited: ${child.output}`);
        return (await fetch(`${child.url}/readyz`)).ok;
      },
      { what: `${service} to be ready` },
    ).catch((err) => {
      throw new Error(`${err.message}\n${child.output}`);
    });
    return child;
  }

  async startHelper(label, script, env) {
    return this.own(await Helper.start(label, script, env));
  }

  own(child) {
    this.children.add(child);
    void child.exited.then(() => this.children.delete(child));
    return child;
  }

  /**
   * Empties the lead tables and Redis between phases, so each starts from the same state. The ledger, which the
   * CASCADE reaches, refuses TRUNCATE by a trigger (ADR 0023): in this throwaway database the triggers are off
   * for the reset.
   */
  async reset() {
    await this.pg.query(
      `BEGIN;
       SET LOCAL session_replication_role = replica;
       TRUNCATE leads, lead_events, deliveries, delivery_attempts, postbacks, ingest_rejections CASCADE;
       COMMIT`,
    );
    await this.redis.flushall();
  }

  async admin(ingest, method, url, body) {
    const res = await fetch(`${ingest.url}/v1/admin${url}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`admin ${method} ${url}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  /**
   * An ingest for the operator's admin calls, apart from the measured ones:
   * the admin API loads Prisma's query compiler (about 75 MB of RSS) into the
   * process that serves it, the lead API does not (ADR 0009), and the figures
   * are those of an ingest serving sources (docs/performance.md).
   */
  async operatorIngest() {
    if (!this.operator?.alive) this.operator = await this.startService('ingest');
    return this.operator;
  }

  /** A source, a partner at `partnerUrl` and a route from the one to the other, made through the admin API. */
  async wire(name, partnerUrl, partnerOptions = {}) {
    const ingest = await this.operatorIngest();
    const source = await this.admin(ingest, 'POST', '/sources', { name: `${name}-${Date.now()}` });
    const partner = await this.admin(ingest, 'POST', '/partners', {
      name: `${name}-${Date.now()}`,
      url: `${partnerUrl}/leads`,
      ...partnerOptions,
    });
    await this.admin(ingest, 'POST', '/routes', {
      name: `${name}-${Date.now()}`,
      priority: 10,
      strategy: 'priority',
      filters: { sourceIds: [source.id] },
      partners: [{ partnerId: partner.id }],
    });
    return { source, partner, apiKey: source.apiKey };
  }

  async stopChildren() {
    await Promise.all([...this.children].map((c) => c.stop()));
  }

  async stop() {
    await this.stopChildren();
    await this.pg?.end().catch(() => undefined);
    this.redis?.disconnect();
    await this.redisChild?.stop();
    if (this.redisDir) fs.rmSync(this.redisDir, { recursive: true, force: true });
    if (this.databaseName) {
      const pg = require('pg');
      const admin = new URL(this.databaseUrl);
      admin.pathname = '/postgres';
      const client = new pg.Client({ connectionString: admin.toString() });
      await client.connect();
      for (const name of this.databases) {
        await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
        this.log(`database ${name} dropped`);
      }
      await client.end();
    }
  }
}

module.exports = { ADMIN_TOKEN, BenchStack, build, poll, ROOT };
