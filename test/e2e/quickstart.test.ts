// `npm start` (scripts/quickstart.js) as a user runs it: a child process that
// builds, creates and migrates a database that does not exist yet, seeds the
// demo, runs ingest, worker and the demo partner, and stops them all on
// SIGTERM. Its own database, queue prefix, free ports and state directory: the
// developer's .leadrouter/ and the other test files are left alone.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { dropDatabase, runDatabasePrefix, serverUrl } from '../support/database';
import { freePort } from '../support/process';
import { waitFor } from '../support/wait';

const root = path.resolve(__dirname, '../..');
const DEV_ADMIN_TOKEN = 'dev-admin-token-change-me';
const README_LEAD = {
  name: 'John',
  phone: '+1 415 555 0100',
  email: 'john@example.com',
  geo: 'US',
  source: 'Facebook',
  fields: { zip: '94107', age: 42 },
};

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every process below `pid`, from /proc (Linux). */
function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // "pid (comm) state ppid …": comm may hold spaces and parentheses.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* exited meanwhile */
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [child, ppid] of parents) {
      if (ppid === parent) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

/** One `node scripts/quickstart.js`, its output collected with colours stripped. */
class QuickStart {
  readonly proc: ChildProcess;
  output = '';
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(env: NodeJS.ProcessEnv) {
    // Its own process group, so that afterAll can kill whatever it started.
    this.proc = spawn(process.execPath, ['scripts/quickstart.js'], {
      cwd: root,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer) => (this.output += chunk.toString('utf8').replace(/\x1b\[[0-9;]*m/g, ''));
    this.proc.stdout!.on('data', collect);
    this.proc.stderr!.on('data', collect);
    this.exited = new Promise((resolve) =>
      this.proc.once('close', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      }),
    );
  }

  /** Waits until `pattern` appears in the output; fails at once, with the output, if the process exits first. */
  async waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    await waitFor(() => this.exit ?? pattern.test(this.output), {
      timeoutMs,
      what: `quickstart output ${pattern}`,
    }).catch((error) => {
      throw new Error(`${(error as Error).message}\n--- quickstart output ---\n${this.output}`);
    });
    const match = pattern.exec(this.output);
    if (!match)
      throw new Error(`quickstart exited (${JSON.stringify(this.exit)}) before printing ${pattern}:\n${this.output}`);
    return match;
  }

  /** SIGKILL to its whole process group: also what it started if it died itself. */
  kill(): void {
    if (this.proc.pid === undefined) return;
    try {
      process.kill(-this.proc.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

describe('npm start (scripts/quickstart.js)', () => {
  const database = `${runDatabasePrefix()}${randomBytes(6).toString('hex')}`;
  const prefix = `test-${randomBytes(6).toString('hex')}`;
  const stateDir = mkdtempSync(path.join(tmpdir(), 'leadrouter-quickstart-'));
  const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  const started: QuickStart[] = [];
  const seenPids = new Set<number>();
  let env: NodeJS.ProcessEnv;
  let ports: { ingest: number; worker: number; partner: number };
  let firstKey = '';

  beforeAll(async () => {
    ports = { ingest: await freePort(), worker: await freePort(), partner: await freePort() };
    env = {
      ...process.env,
      NODE_ENV: 'development', // jest sets "test"; the demo is seeded in development only
      LOG_LEVEL: 'info',
      DATABASE_URL: serverUrl(database), // does not exist yet: the quick start creates it
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      PORT: String(ports.ingest),
      WORKER_PORT: String(ports.worker),
      DEMO_PARTNER_PORT: String(ports.partner),
      QUICKSTART_DIR: stateDir,
    };
    delete env.ADMIN_TOKEN;
    delete env.ALLOW_PRIVATE_DESTINATIONS;
  });

  afterAll(async () => {
    // Whatever happened above, nothing it started outlives the test.
    for (const run of started) run.kill();
    for (const pid of seenPids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone, as it should be */
      }
    }
    await Promise.all(started.map((run) => run.exited));
    await dropDatabase(database);
    rmSync(stateDir, { recursive: true, force: true });
    const redis = new Redis(redisUrl, { lazyConnect: true });
    await redis.connect();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  const start = () => {
    const run = new QuickStart(env);
    started.push(run);
    return run;
  };

  it('prepares everything, delivers the README lead to the demo partner, and stops cleanly on SIGTERM', async () => {
    const run = start();
    const [, apiKey] = await run.waitForOutput(/demo API key\s+(lr_[\w-]+)/, 50_000);
    firstKey = apiKey!;
    expect(run.output).toContain(`created database ${database}`);
    expect(run.output).toMatch(/applied \d+_init/);
    expect(run.output).toMatch(
      /demo data: created source "demo", created partner "demo-partner", created route "demo"/,
    );
    expect(run.output).toContain(`admin token   ${DEV_ADMIN_TOKEN}`);
    expect(run.output).toContain(`curl -i -X POST http://localhost:${ports.ingest}/v1/leads`);
    const base = `http://127.0.0.1:${ports.ingest}`;
    await waitFor(async () => (await fetch(`${base}/readyz`)).ok, { what: 'ingest /readyz' });

    const res = await fetch(`${base}/v1/leads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(README_LEAD),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };

    await run.waitForOutput(new RegExp(`partner +\\| received lead ${id} `), 15_000);
    const status = await waitFor(
      async () => {
        const view = await fetch(`${base}/v1/leads/${id}`, { headers: { authorization: `Bearer ${DEV_ADMIN_TOKEN}` } });
        const body = (await view.json()) as { status: string };
        return body.status === 'delivered' && body.status;
      },
      { what: `lead ${id} delivered` },
    );
    expect(status).toBe('delivered');

    const children = descendants(run.proc.pid!);
    children.forEach((pid) => seenPids.add(pid));
    expect(children.length).toBeGreaterThanOrEqual(2); // ingest and worker

    run.proc.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.output).toMatch(/leadrouter +\| stopped\n/);
    expect(children.filter(alive)).toEqual([]);
    for (const port of Object.values(ports)) expect(await listening(port)).toBe(false);
  }, 60_000);

  it('starts again on the same database with the same key, and stops everything when a child dies', async () => {
    expect(firstKey).not.toBe('');
    const run = start();
    const [, apiKey] = await run.waitForOutput(/demo API key\s+(lr_[\w-]+)/, 30_000);
    expect(apiKey).toBe(firstKey);
    expect(run.output).toContain(`database ${database} is up to date`);
    expect(run.output).toContain('demo data: in place');

    const children = descendants(run.proc.pid!);
    children.forEach((pid) => seenPids.add(pid));
    const worker = children.find((pid) =>
      readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('services/worker/dist/main.js'),
    );
    expect(worker).toBeDefined();
    process.kill(worker!, 'SIGKILL');

    const exit = await run.exited;
    expect(exit.code).toBe(1);
    expect(run.output).toMatch(/worker exited on its own \(SIGKILL\); stopping the rest/);
    expect(children.filter(alive)).toEqual([]);
  }, 40_000);
});
