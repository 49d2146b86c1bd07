// `npm start` (scripts/quickstart.js) as a user runs it: a child process that
// builds, creates and migrates a database that does not exist yet, seeds the
// demo, runs ingest, worker and the demo partner, and stops them all on
// SIGTERM. Its own database, queue prefix, free ports and state directory: the
// developer's .leadrouter/ and the other test files are left alone.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dropDatabase, runDatabasePrefix, serverUrl } from '../support/database';
import { freePort } from '../support/process';
import { alive, commandLine, descendants, listening, QuickStart } from '../support/quickstart';
import { deleteKeys, testKeyPrefix } from '../support/redis-keys';
import { waitFor } from '../support/wait';
const DEV_ADMIN_TOKEN = 'dev-admin-token-change-me';
const README_LEAD = {
  name: 'John',
  phone: '+1 415 555 0100',
  email: 'john@example.com',
  geo: 'US',
  source: 'Facebook',
  fields: { zip: '94107', age: 42 },
};

describe('npm start (scripts/quickstart.js)', () => {
  const database = `${runDatabasePrefix()}${randomBytes(6).toString('hex')}`;
  const prefix = testKeyPrefix();
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
    await deleteKeys(redisUrl, `${prefix}:*`);
  });

  const start = (how?: 'node' | 'npm start') => {
    const run = new QuickStart(env, how);
    started.push(run);
    return run;
  };

  /** Started and ready (its banner printed), with every process below it. */
  const startReady = async (how?: 'node' | 'npm start') => {
    const run = start(how);
    await run.waitForOutput(/demo API key\s+lr_/, 40_000);
    const processes = [run.proc.pid!, ...descendants(run.proc.pid!)];
    processes.forEach((pid) => seenPids.add(pid));
    const services = processes.filter((pid) => /services\/(ingest|worker)\/dist\/main\.js/.test(commandLine(pid)));
    expect(services).toHaveLength(2);
    return { run, processes };
  };

  /** Within 30 s of the signal (ADR 0017): every process gone, every port free. */
  const expectAllStopped = async (run: QuickStart, processes: number[], since: number) => {
    await waitFor(() => processes.every((pid) => !alive(pid)), {
      timeoutMs: 30_000,
      what: 'every process of the quick start to exit',
    }).catch((error: Error) => {
      const left = processes.filter(alive).map((pid) => `${pid} ${commandLine(pid)}`);
      throw new Error(`${error.message}\nstill running: ${left.join('; ')}\n--- output ---\n${run.output}`);
    });
    for (const port of Object.values(ports)) expect(await listening(port)).toBe(false);
    expect(Date.now() - since).toBeLessThan(30_000);
    await run.exited; // and all its output read
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
  // npm runs the script as its child and forwards SIGTERM and SIGINT to it; a
  // shell in between (`sh -c node …`) received them instead and ignored SIGINT
  // or died alone on SIGTERM, leaving the quick start and its children running.
  it.each(['SIGTERM', 'SIGINT'] as const)(
    '`npm start` stops everything on %s to npm',
    async (signal) => {
      const { run, processes } = await startReady('npm start');
      const since = Date.now();
      process.kill(run.proc.pid!, signal);
      await run.exited;
      await expectAllStopped(run, processes, since);
      expect(run.output).toMatch(/leadrouter +\| stopped\n/);
    },
    75_000,
  );

  it('`npm start` stops everything on a Ctrl-C in its terminal, which reaches the quick start twice', async () => {
    const { run, processes } = await startReady('npm start');
    const since = Date.now();
    process.kill(-run.proc.pid!, 'SIGINT'); // the terminal's SIGINT goes to the whole foreground process group
    await expectAllStopped(run, processes, since);
    // Ingest and worker finished cleanly: the copy npm forwards is not a second Ctrl-C that kills them.
    expect(run.output).not.toContain('killing ingest and worker');
    expect(run.output).toMatch(/leadrouter +\| stopped\n/);
  }, 75_000);

  it('ingest and worker stop when the quick start is killed outright (kill -9)', async () => {
    const { run, processes } = await startReady();
    const since = Date.now();
    process.kill(run.quickstartPid(), 'SIGKILL');
    await expectAllStopped(run, processes, since);
  }, 75_000);

  it('the quick start stops everything when npm is killed outright (kill -9)', async () => {
    const { run, processes } = await startReady('npm start');
    const since = Date.now();
    process.kill(run.proc.pid!, 'SIGKILL');
    await expectAllStopped(run, processes, since);
    expect(run.output).toMatch(/is gone: stopping/);
  }, 75_000);
  it('stops everything when its output pipe is broken (`npm start | head`)', async () => {
    const { run, processes } = await startReady();
    const since = Date.now();
    run.proc.stdout!.destroy();
    run.proc.stderr!.destroy();
    // The ingest logs this request (a 401): the quick start's next write fails with EPIPE.
    await fetch(`http://127.0.0.1:${ports.ingest}/v1/admin/sources`);
    await expectAllStopped(run, processes, since);
    expect(run.exit).toEqual({ code: 0, signal: null });
  }, 75_000);
});
