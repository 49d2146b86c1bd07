import { spawn } from 'node:child_process';
import path from 'node:path';
import { ServiceProcess, TS_NODE_ARGS } from '../support/process';
import { ADMIN_TOKEN, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

const ROOT = path.resolve(__dirname, '../..');
const ANSI = /\x1b\[/;

/** Runs a service until it exits (a bad configuration stops it at once); its output and exit code. */
async function runToExit(service: 'ingest' | 'worker', env: Record<string, string | undefined>) {
  const child = spawn(process.execPath, [...TS_NODE_ARGS, `services/${service}/src/main.ts`], {
    cwd: ROOT,
    // Only what is given: nothing from the test runner (jest sets NODE_ENV=test).
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  // A process that started after all is stopped, not left behind (its exit code is then null).
  const deadline = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(deadline);
  return { code, output };
}

describe('starting with a bad secret', () => {
  it('stops with one line that names the variable and never shows its value', async () => {
    const cases: { service: 'ingest' | 'worker'; env: Record<string, string>; secret: string; line: RegExp }[] = [
      {
        service: 'ingest',
        env: { NODE_ENV: 'production', ADMIN_TOKEN: 'tooShortSecret1' },
        secret: 'tooShortSecret1',
        line: /^leadrouter ingest: ADMIN_TOKEN is invalid: it must be at least 32 characters/,
      },
      {
        service: 'ingest',
        env: { NODE_ENV: 'production', ADMIN_TOKEN: ' '.repeat(16) },
        secret: ' '.repeat(16),
        line: /^leadrouter ingest: ADMIN_TOKEN is invalid/,
      },
      {
        service: 'worker',
        env: { METRICS_TOKEN: 'qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq' },
        secret: 'qqqqqqqqqqqqqqqq',
        line: /^leadrouter worker: METRICS_TOKEN is invalid: it must have at least 8 different characters/,
      },
      {
        service: 'worker',
        env: { DATABASE_URL: 'mysql://leadrouter:Pa55w0rd-secret@db/leadrouter' },
        secret: 'Pa55w0rd',
        line: /^leadrouter worker: DATABASE_URL="mysql:\/\/leadrouter:\*\*\*@db\/leadrouter" is invalid/,
      },
    ];
    for (const { service, env, secret, line } of cases) {
      const { code, output } = await runToExit(service, env);
      expect({ env, code }).toEqual({ env, code: 1 });
      expect(output).not.toContain(secret);
      expect(output.trimEnd().split('\n')).toEqual([expect.stringMatching(line)]);
    }
  }, 60_000);

  it('refuses to start without ADMIN_TOKEN unless NODE_ENV=development: the public dev token never opens by omission', async () => {
    const { code, output } = await runToExit('ingest', {});
    expect(code).toBe(1);
    expect(output.trim()).toMatch(/^leadrouter ingest: ADMIN_TOKEN is required/);
    expect(output).not.toContain('dev-admin-token');
  }, 30_000);
});

describe('starting in production', () => {
  const stack = new TestStack({ worker: false });
  beforeAll(() => stack.start(), 60_000);
  afterAll(() => stack.stop());

  it('warns while /metrics, which names sources and partners, is open', async () => {
    const worker = new ServiceProcess('worker', { ...stack.env(), NODE_ENV: 'production', LOG_LEVEL: 'info' });
    try {
      await worker.start();
      await waitFor(() => worker.output.includes('worker started'), { timeoutMs: 30_000, what: 'the worker started' });
      expect(worker.output).toContain('METRICS_TOKEN is not set: /metrics is open');
    } finally {
      await worker.stop();
    }
  }, 60_000);
});

describe('development logs', () => {
  const stack = new TestStack({ worker: false });
  let ingest: ServiceProcess;
  let worker: ServiceProcess;

  beforeAll(async () => {
    await stack.start();
    // Output piped, as under a process manager or CI (where CI=true); FORCE_COLOR, which the quick start sets for
    // a terminal (and jest for its workers on one), not asking for colours.
    const env = { ...stack.env(), NODE_ENV: 'development', LOG_LEVEL: 'info', CI: 'true', FORCE_COLOR: '0' };
    [ingest, worker] = await Promise.all([
      new ServiceProcess('ingest', env).start(),
      new ServiceProcess('worker', env).start(),
    ]);
    await waitFor(() => ingest.output.includes('ingest listening') && worker.output.includes('worker started'), {
      timeoutMs: 30_000,
      what: 'both processes to log that they started',
    });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([ingest?.stop(), worker?.stop()]);
    await stack.stop();
  }, 60_000);

  it('have no colour codes when stdout is not a terminal', () => {
    expect(ingest.output).not.toMatch(ANSI);
    expect(worker.output).not.toMatch(ANSI);
  });

  it('give one line per HTTP request, saying what it was', async () => {
    const get = (id: string) =>
      fetch(`${ingest.url}/v1/leads/0c000000-0000-4000-8000-000000000001`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'x-request-id': id },
      });
    const from = ingest.output.length;
    expect((await get('first-request')).status).toBe(404);
    // Lines are written in order: once the second request's line is out, the first one's are all out.
    expect((await get('second-request')).status).toBe(404);
    await waitFor(() => ingest.output.slice(from).includes('second-request'), { what: 'the second request logged' });
    const lines = ingest.output.slice(from).split('\n').filter(Boolean);
    expect(lines).toEqual(
      ['first-request', 'second-request'].map((id) =>
        expect.stringMatching(new RegExp(`INFO.*: GET /v1/leads/0c000000-\\S+ 404 \\d+ ms .*"reqId":"${id}"`)),
      ),
    );
    expect(lines.join('\n')).not.toMatch(ANSI);
  });
});
