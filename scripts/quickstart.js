#!/usr/bin/env node
// npm start — the quick start (README "Quick start"; docs/decisions/0003-quick-start.md):
//
//   1. prepares what is missing: the Prisma client, the build (tsc -b), the
//      migrations (creating the database when missing);
//   2. uses Redis and PostgreSQL at REDIS_URL / DATABASE_URL, or starts local
//      ones when those are local and nothing answers (scripts/quickstart/services.js);
//      a Redis Cluster (REDIS_CLUSTER_NODES) is used when one of its nodes answers;
//   3. in development, seeds a demo source, partner and route and runs the demo
//      partner (scripts/quickstart/demo.js);
//   4. runs ingest and worker as child processes, their logs prefixed, prints a
//      banner with a ready-to-paste curl, and stops everything on Ctrl-C.
//
// Plain CommonJS: it runs before anything is built, and requires the built
// workspace packages only once the build is done. Besides the services'
// variables it reads DEMO_PARTNER_PORT (3002) and QUICKSTART_DIR (.leadrouter).
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { Lifecycle } = require('./quickstart/lifecycle');
const { QuickstartError, bold, pipeLines, say } = require('./quickstart/output');
const {
  ensurePostgres,
  ensureRedis,
  ensureRedisCluster,
  poll,
  reachable,
  relative,
  stopChild,
} = require('./quickstart/services');
const { seedDemo, startDemoPartner, writeEnvFile, DEMO_SOURCE, DEMO_PARTNER } = require('./quickstart/demo');

const root = path.resolve(__dirname, '..');
const READY_TIMEOUT_MS = 60_000;
/** Longer than the services' own 25 s shutdown deadline. */
const CHILD_STOP_TIMEOUT_MS = 30_000;

const lifecycle = new Lifecycle();

async function main() {
  lifecycle.handleSignals();
  lifecycle.stopWithParent();
  lifecycle.stopWhenOutputGone();
  const stateDir = path.resolve(root, process.env.QUICKSTART_DIR || '.leadrouter');
  fs.mkdirSync(stateDir, { recursive: true });
  // Each step may be interrupted by Ctrl-C: then nothing new is started.
  const step = async (fn) => {
    const result = await fn();
    if (lifecycle.stopping) throw new Stopping();
    return result;
  };

  await step(build);
  const env = childEnv();
  const { ingest, worker } = loadConfig(env);
  const development = ingest.NODE_ENV === 'development';
  const demoPartnerPort = development ? port('DEMO_PARTNER_PORT', 3002) : undefined;
  await step(() =>
    checkPortsFree({ PORT: ingest.PORT, WORKER_PORT: worker.WORKER_PORT, DEMO_PARTNER_PORT: demoPartnerPort }),
  );

  await step(() =>
    ingest.REDIS_CLUSTER_NODES
      ? ensureRedisCluster({ nodes: ingest.REDIS_CLUSTER_NODES })
      : ensureRedis({ redisUrl: ingest.REDIS_URL, stateDir, lifecycle }),
  );
  await step(() => ensurePostgres({ databaseUrl: ingest.DATABASE_URL, stateDir, lifecycle }));
  await step(() => migrate(ingest.DATABASE_URL));

  let demo;
  if (development) {
    const partner = await startDemoPartner({ port: demoPartnerPort });
    lifecycle.own('the demo partner', partner.close);
    const apiKey = await step(() => seedDemo({ databaseUrl: ingest.DATABASE_URL, stateDir, partnerUrl: partner.url }));
    const devAdminToken = process.env.ADMIN_TOKEN ? undefined : ingest.ADMIN_TOKEN;
    const connection = {
      DATABASE_URL: ingest.DATABASE_URL,
      ...(ingest.REDIS_CLUSTER_NODES
        ? { REDIS_CLUSTER_NODES: ingest.REDIS_CLUSTER_NODES }
        : { REDIS_URL: ingest.REDIS_URL }),
      QUEUE_PREFIX: ingest.QUEUE_PREFIX,
      QUEUE_PARTITIONS: ingest.QUEUE_PARTITIONS,
    };
    const envFile = writeEnvFile({ stateDir, apiKey, devAdminToken, connection });
    demo = { apiKey, partner, keyFile: path.join(stateDir, 'demo-key'), envFile };
  }

  const children = [
    startChild('ingest', 'services/ingest/dist/main.js', env),
    startChild('worker', 'services/worker/dist/main.js', env),
  ];
  lifecycle.own('ingest and worker', () => stopChildren(children));

  // The worker's first: it does not log health checks, and once it is ready
  // the ingest's first /readyz rarely answers 503 (which ingest logs as an error).
  await step(() =>
    waitUntilReady([
      { label: 'worker', url: `http://127.0.0.1:${worker.WORKER_PORT}/readyz` },
      { label: 'ingest', url: `http://127.0.0.1:${ingest.PORT}/readyz` },
    ]),
  );
  printBanner({ ingest, worker, demo, devToken: !process.env.ADMIN_TOKEN });
}

/** Thrown by a step that finished after a Ctrl-C: the quick start is already stopping. */
class Stopping extends Error {}

/** The Prisma client when schema.prisma is newer than it, then tsc -b (incremental: ~0.3 s when nothing changed). */
async function build() {
  const schema = path.join(root, 'prisma/schema.prisma');
  const client = path.join(root, 'packages/db/src/generated/prisma/client.ts');
  if (!fs.existsSync(client) || fs.statSync(client).mtimeMs < fs.statSync(schema).mtimeMs) {
    say('leadrouter', 'generating the Prisma client');
    await runStep('prisma generate', [path.join(root, 'scripts/prisma-generate.js'), '--quiet']);
  }
  const firstBuild = ['services/ingest', 'services/worker'].some((dir) => !fs.existsSync(path.join(root, dir, 'dist')));
  if (firstBuild) say('leadrouter', 'building (tsc -b); the first build takes a while');
  const started = Date.now();
  await runStep('tsc -b', [require.resolve('typescript/bin/tsc', { paths: [root] }), '-b']);
  say('leadrouter', `build ready (tsc -b, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

/** Runs a node script with the terminal's output; a failure stops the quick start with one line. */
function runStep(what, args) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    proc.once('error', reject);
    proc.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else if (lifecycle.stopping) resolve();
      else
        reject(
          new QuickstartError(
            `${what} failed (${signal ?? `exit code ${code}`}): fix what it printed above and run npm start again`,
          ),
        );
    });
  });
}

/** The environment of ingest and worker: the user's, with development defaults. */
function childEnv() {
  // NODE_ENV always set: the services' defaults (the development admin token) depend on it.
  const env = { ...process.env, NODE_ENV: process.env.NODE_ENV || 'development' };
  // The demo partner listens on loopback, which deliveries refuse by default (ADR 0006).
  if (env.NODE_ENV === 'development') env.ALLOW_PRIVATE_DESTINATIONS ??= 'true';
  // Their output reaches the terminal through a pipe: colours only when the terminal shows ours.
  if (process.stdout.isTTY && env.NO_COLOR === undefined) env.FORCE_COLOR ??= '1';
  return env;
}

/** The services' own configuration, parsed by the built @leadrouter/config: a bad value stops here, with its line. */
function loadConfig(env) {
  const { ConfigError, loadIngestConfig, loadWorkerConfig } = require('@leadrouter/config');
  try {
    return { ingest: loadIngestConfig(env), worker: loadWorkerConfig(env) };
  } catch (error) {
    if (error instanceof ConfigError) throw new QuickstartError(error.message);
    throw error;
  }
}

function port(name, fallback) {
  const raw = process.env[name] || String(fallback);
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new QuickstartError(`${name}=${JSON.stringify(raw)} is invalid: it must be a port number (0-65535)`);
  }
  return value;
}

async function checkPortsFree(ports) {
  for (const [name, value] of Object.entries(ports)) {
    if (value && (await reachable('127.0.0.1', value))) {
      throw new QuickstartError(
        `port ${value} (${name}) is in use: stop what listens there, or set ${name} to a free port`,
      );
    }
  }
}

async function migrate(databaseUrl) {
  const { applyMigrations, ensureDatabase } = require('@leadrouter/db');
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  try {
    if (await ensureDatabase(databaseUrl)) say('leadrouter', `created database ${name}`);
    const { applied } = await applyMigrations({ databaseUrl, log: (line) => say('leadrouter', line) });
    if (applied.length === 0) say('leadrouter', `database ${name} is up to date`);
  } catch (error) {
    const code = error.name !== 'MigrationError' && typeof error.code === 'string' ? ` (${error.code})` : '';
    throw new QuickstartError(`migrations failed: ${error.message.replace(/\s*\n\s*/g, ' ')}${code}`);
  }
}

/**
 * A service as a child process, its output prefixed; when it dies on its own,
 * everything stops. The IPC channel is never used for messages: the service
 * stops when it closes, so that ingest and worker do not outlive a quick start
 * that was killed outright (kill -9).
 */
function startChild(label, script, env) {
  const proc = spawn(process.execPath, [path.join(root, script)], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  lifecycle.killable(proc);
  const output = Promise.all([
    pipeLines(proc.stdout, label, process.stdout),
    pipeLines(proc.stderr, label, process.stderr),
  ]);
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  const child = { label, proc, diedOnItsOwn: false };
  // Settles once the process has exited and all its output is printed.
  child.closed = Promise.all([exited, output]).then(([status]) => status);
  void child.closed.then(({ code, signal }) => {
    if (lifecycle.stopping) return;
    child.diedOnItsOwn = true;
    say(
      'leadrouter',
      `${label} exited on its own (${signal ?? `exit code ${code}`}); stopping the rest`,
      process.stderr,
    );
    void lifecycle.exit(1);
  });
  return child;
}

/** SIGTERM to each (a Ctrl-C in the terminal has already sent them SIGINT); fails if one exits uncleanly. */
async function stopChildren(children) {
  const failed = [];
  await Promise.all(
    children.map(async (child) => {
      void stopChild(child.proc, 'SIGTERM', CHILD_STOP_TIMEOUT_MS);
      const { code, signal } = await child.closed;
      if (code !== 0 && !child.diedOnItsOwn) failed.push(`${child.label} exited with ${signal ?? `code ${code}`}`);
    }),
  );
  if (failed.length) throw new Error(failed.join(', '));
}

async function waitUntilReady(services) {
  for (const { label, url } of services) {
    let last = 'no answer';
    const ready = await poll(
      async () => {
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
          last = `${res.status} ${await res.text()}`;
          return res.ok;
        } catch (error) {
          last = error.cause?.code ?? error.message;
          return false;
        }
      },
      { timeoutMs: READY_TIMEOUT_MS, gaveUp: () => lifecycle.stopping },
    );
    if (!ready && !lifecycle.stopping) {
      throw new QuickstartError(`${label} did not become ready within ${READY_TIMEOUT_MS / 1000} s (${url}: ${last})`);
    }
  }
}

function printBanner({ ingest, worker, demo, devToken }) {
  const base = `http://localhost:${ingest.PORT}`;
  const token = devToken ? ingest.ADMIN_TOKEN : '$ADMIN_TOKEN';
  const lines = [
    '',
    bold(`leadrouter is running (${ingest.NODE_ENV}). Ctrl-C stops everything.`),
    `  ingest        ${base}   (worker health: http://localhost:${worker.WORKER_PORT}/readyz)`,
    `  admin token   ${devToken ? `${token}   (the development default: set ADMIN_TOKEN to choose one)` : 'the one in ADMIN_TOKEN'}`,
  ];
  if (demo) {
    lines.push(
      `  demo API key  ${demo.apiKey}   (source "${DEMO_SOURCE}"; kept in ${relative(demo.keyFile)})`,
      `  demo partner  ${demo.partner.url}   (partner "${DEMO_PARTNER}": logs and accepts each lead; logs postbacks sent to /postbacks)`,
      '',
      `For the README's commands, in another terminal: source ${relative(demo.envFile)}   (DEMO_KEY${devToken ? ', ADMIN_TOKEN' : ''} and the connection settings)`,
      '',
      'Send a lead:',
      '',
      `curl -i -X POST ${base}/v1/leads \\`,
      `  -H 'Authorization: Bearer ${demo.apiKey}' -H 'Content-Type: application/json' \\`,
      `  -d '${JSON.stringify(require('@leadrouter/core').EXAMPLE_LEAD)}'`,
      '',
      'Then see its status and history (with the id from the answer):',
      '',
      `curl ${base}/v1/leads/<id> -H "Authorization: Bearer ${token}"`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

main().catch((error) => {
  if (lifecycle.stopping) return; // Stopping, or a failure caused by the stop itself
  if (error instanceof QuickstartError) say('leadrouter', error.message, process.stderr);
  else say('leadrouter', `failed: ${error.stack ?? error}`, process.stderr);
  void lifecycle.exit(1);
});
