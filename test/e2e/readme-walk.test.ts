// The README walked as a reader walks it: the quick start running, then every
// shell block of "Quick start" and "Setting up sources, partners and routes",
// in order, in one bash (variables carry from block to block as in a terminal),
// exactly as written but for the ports and the state directory, which are this
// test's own. Then the runbook's commands that need no placeholder filled in.
// Each must succeed, the leads must reach their partners, and the sample lead
// view must have the fields the API really answers.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { dropDatabase, runDatabasePrefix, serverUrl } from '../support/database';
import { freePort } from '../support/process';
import { QuickStart } from '../support/quickstart';
import { waitFor } from '../support/wait';

const root = path.resolve(__dirname, '../..');
const README = readFileSync(path.join(root, 'README.md'), 'utf8');
/** An answer that did not do what was asked. */
const REFUSED = /"status":"(rejected|error)"/;

/** The text of a `## ` section, up to the next heading of its level (or `until`). */
function section(title: string, until = '\n## '): string {
  const start = README.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README has no section "${title}"`);
  const end = README.indexOf(until, start + title.length + 5);
  return README.slice(start, end < 0 ? undefined : end);
}

/** Fenced blocks of a section, with their language. */
function blocks(text: string): { lang: string; body: string }[] {
  return [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, body: m[2]! }));
}

/** Keys and value types, recursively: what a sample must share with the real answer. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, shape((value as Record<string, unknown>)[key])]),
    );
  return value === null ? 'null' : typeof value;
}

describe('the README, walked from the quick start', () => {
  const database = `${runDatabasePrefix()}${randomBytes(6).toString('hex')}`;
  const prefix = `test-${randomBytes(6).toString('hex')}`;
  const stateDir = mkdtempSync(path.join(tmpdir(), 'leadrouter-readme-'));
  const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  let run: QuickStart | undefined;
  let ports: { ingest: number; worker: number; partner: number };
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    ports = { ingest: await freePort(), worker: await freePort(), partner: await freePort() };
    env = {
      ...process.env,
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      DATABASE_URL: serverUrl(database),
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      PORT: String(ports.ingest),
      WORKER_PORT: String(ports.worker),
      DEMO_PARTNER_PORT: String(ports.partner),
      QUICKSTART_DIR: stateDir,
    };
    delete env.ADMIN_TOKEN;
    delete env.ALLOW_PRIVATE_DESTINATIONS;
    run = new QuickStart(env);
    await run.waitForOutput(/demo API key\s+lr_/, 50_000);
  }, 60_000);

  afterAll(async () => {
    if (run) {
      run.proc.kill('SIGTERM');
      const timer = setTimeout(() => run!.kill(), 30_000);
      await run.exited;
      clearTimeout(timer);
    }
    await dropDatabase(database);
    rmSync(stateDir, { recursive: true, force: true });
    const redis = new Redis(redisUrl, { lazyConnect: true });
    await redis.connect();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }, 40_000);

  /** The README's command text with this test's ports and state directory. */
  const localise = (text: string) =>
    text
      .replaceAll('localhost:3000', `localhost:${ports.ingest}`)
      .replaceAll('127.0.0.1:3002', `127.0.0.1:${ports.partner}`)
      .replaceAll('source .leadrouter/env', `source ${stateDir}/env`);

  /** Runs bash blocks one after another in one shell; the output of each, and the variables named, at the end. */
  const runBlocks = (commands: string[], variables: string[]) => {
    const script = [
      'set -euo pipefail',
      ...commands.flatMap((command, i) => [localise(command), `printf '\\n@@@ %d\\n' ${i}`]),
      ...variables.map((name) => `printf '@@@ %s=%s\\n' ${name} "\${${name}:-}"`),
    ].join('\n');
    // A terminal of the reader's: nothing of the quick start's environment but what `source .leadrouter/env` sets.
    const shellEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
    const started = Date.now();
    // Generous: a dozen node and npx processes, each `npx leadrouter` 4–10 s of start-up on a busy 2-core machine
    // (the full suite's run), so a block of ten of them needs more than a minute there.
    const result = spawnSync('bash', ['-c', script], { cwd: root, env: shellEnv, encoding: 'utf8', timeout: 150_000 });
    const out = result.stdout;
    if (result.status !== 0) {
      const how = result.signal
        ? `was killed (${result.signal}) after ${Date.now() - started} ms`
        : `exited ${result.status}`;
      throw new Error(`bash ${how}:\n${out}\n${result.stderr}`);
    }
    const outputs = out.split(/\n?@@@ \d+\n/).slice(0, commands.length);
    const values = Object.fromEntries([...out.matchAll(/^@@@ (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
    return { outputs, values, stderr: result.stderr };
  };

  /** An Authorization header with the token or key that `source .leadrouter/env` sets. */
  const exported = (name: 'ADMIN_TOKEN' | 'DEMO_KEY') => {
    const value = new RegExp(`^export ${name}=(\\S+)$`, 'm').exec(readFileSync(`${stateDir}/env`, 'utf8'))![1];
    return { authorization: `Bearer ${value}` };
  };
  const leadView = async (id: string, as = exported('ADMIN_TOKEN')) =>
    (await (await fetch(`http://127.0.0.1:${ports.ingest}/v1/leads/${id}`, { headers: as })).json()) as {
      status: string;
      events: { partner?: string }[];
    };
  const delivered = (id: string) =>
    waitFor(
      async () => {
        const view = await leadView(id);
        return view.status === 'delivered' ? view : undefined;
      },
      { timeoutMs: 20_000, what: `lead ${id} delivered` },
    );

  it('works as written: the quick start, the set-up example, and the runbook commands without placeholders', async () => {
    const quickStart = blocks(section('Quick start'));
    const setup = blocks(section('Setting up sources, partners and routes', '\n### '));
    const sh = (list: { lang: string; body: string }[]) => list.filter((b) => b.lang === 'sh').map((b) => b.body);
    // The first block is `npm install && npm start`: what beforeAll runs.
    expect(sh(quickStart)[0]).toBe('npm install && npm start\n');
    const commands = [...sh(quickStart).slice(1), ...sh(setup)];
    expect(commands.join('')).not.toMatch(/<[a-z ]+>/); // no placeholder to fill in by hand

    const { outputs, values } = runBlocks(commands, ['DEMO_KEY', 'ADMIN_TOKEN', 'LEAD_ID', 'SOURCE_KEY', 'PARTNER_ID']);
    const failed = (list: string[], outs: string[]) =>
      outs.map((output, i) => ({ command: list[i], output })).filter(({ output }) => REFUSED.test(output));
    expect(failed(commands, outputs)).toEqual([]);

    // `source .leadrouter/env` set what the banner printed.
    expect(values.DEMO_KEY).toBe(readFileSync(`${stateDir}/demo-key`, 'utf8').trim());
    expect(run!.output).toContain(`demo API key  ${values.DEMO_KEY}`);
    expect(values.ADMIN_TOKEN).toMatch(/\S{16,}/);
    expect(run!.output).toContain(`admin token   ${values.ADMIN_TOKEN}`);

    // The quick start's lead reached the demo partner, and its view has the README sample's fields.
    const [posted, history] = [outputs[1]!, outputs[2]!];
    const demoLead = (JSON.parse(posted) as { id: string }).id;
    const samples = quickStart.filter((b) => b.lang === 'json').map((b) => JSON.parse(b.body) as unknown);
    expect(shape(JSON.parse(posted))).toEqual(shape(samples[0]));
    expect((JSON.parse(history) as { id: string }).id).toBe(demoLead);
    expect(await delivered(demoLead)).toMatchObject({
      routing: { route: 'demo', partners: [{ partner: 'demo-partner', decision: 'accepted' }] },
    });
    // The README shows the source's view: the sample has its fields, no more, no fewer.
    const sourceView = await leadView(demoLead, exported('DEMO_KEY'));
    expect(shape(sourceView)).toEqual(shape(samples[1]));
    expect(sourceView).toMatchObject({ status: 'delivered', lead: (samples[1] as { lead: unknown }).lead });
    await run!.waitForOutput(new RegExp(`partner +\\| received lead ${demoLead} `), 10_000);

    // The set-up example: its source's lead went to acme-insurance through the route, mapped by fieldMap,
    // and the source got its postback.
    expect(values.LEAD_ID).not.toBe(demoLead);
    const setupView = await delivered(values.LEAD_ID!);
    expect(setupView.events.at(-1)).toMatchObject({ partner: 'acme-insurance' });
    const received = await run!.waitForOutput(
      new RegExp(`partner +\\| received lead ${values.LEAD_ID} \\(([\\w, ]+)\\)`),
      10_000,
    );
    expect(received[1]!.split(', ').sort()).toEqual(['first_name', 'phone_number', 'zip']);
    await run!.waitForOutput(
      new RegExp(`partner +\\| received postback: lead ${values.LEAD_ID} is delivered \\(signed\\)`),
      15_000,
    );

    // The runbook's commands that name the example's partner, as written.
    const runbook = sh(blocks(section('Operating it (runbook)')))
      .flatMap((block) => block.split('\n'))
      .map((line) => line.replace(/\s+#.*$/, '').trim())
      .filter((line) => line !== '' && !/<\w+>/.test(line));
    expect(runbook.some((line) => line.includes('acme-insurance'))).toBe(true);
    const checked = runBlocks(['source .leadrouter/env', ...runbook], []);
    expect(failed(runbook, checked.outputs.slice(1))).toEqual([]);
  }, 360_000);
});
