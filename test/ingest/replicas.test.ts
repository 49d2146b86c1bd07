import { spawn } from 'node:child_process';
import path from 'node:path';
import { ServiceProcess, TS_NODE_ARGS } from '../support/process';
import { ADMIN_TOKEN, sampleLead, TestStack } from '../support/stack';

/** The guarantees that must hold across ingest replicas, with two real ingest processes. */
describe('two ingest processes', () => {
  const stack = new TestStack({ worker: false });
  const replicas: ServiceProcess[] = [];

  beforeAll(async () => {
    await stack.start();
    for (let i = 0; i < 2; i++) replicas.push(new ServiceProcess('ingest', stack.env()));
    await Promise.all(replicas.map((r) => r.start()));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop('SIGKILL')));
    await stack.stop();
  });

  const post = (replica: number, key: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${replicas[replica]!.url}/v1/leads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as { status: string; id: string } }));

  it('accept exactly one of ten simultaneous posts of one new phone', async () => {
    const source = await stack.createSource({ duplicateWindowHours: 24 });
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        post(i % 2, source.apiKey, sampleLead({ phone: '+1 415 555 0300', email: `r${i}@example.com` })),
      ),
    );
    const accepted = answers.filter((a) => a.status === 202);
    expect(accepted).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409).map((a) => a.body.id)).toEqual(Array(9).fill(accepted[0]!.body.id));
    expect(await stack.db.lead.count({ where: { phone: '+14155550300' } })).toBe(1);
  });

  it('create one lead for one Idempotency-Key sent to both at once', async () => {
    const source = await stack.createSource();
    const body = sampleLead({ phone: '+1 415 555 0301', email: 'idem@example.com' });
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => post(i % 2, source.apiKey, body, { 'idempotency-key': 'cross-1' })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(202));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(await stack.db.lead.count({ where: { sourceId: source.id } })).toBe(1);
  });

  it('share one rate limit', async () => {
    const source = await stack.createSource({ rateLimitPerMinute: 4 });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      statuses.push(
        (await post(i % 2, source.apiKey, sampleLead({ phone: `+1 415 555 04${10 + i}`, email: `rl${i}@example.com` })))
          .status,
      );
    }
    expect(statuses.filter((s) => s === 202)).toHaveLength(4);
    expect(statuses.filter((s) => s === 429)).toHaveLength(2);
  });

  it('stop taking a rotated key at once, on every replica', async () => {
    const source = await stack.createSource();
    const lead = () =>
      sampleLead({
        phone: `+1 415 555 05${String(Math.floor(Math.random() * 90) + 10)}`,
        email: `${Math.random()}@example.com`,
      });
    expect((await post(1, source.apiKey, lead())).status).toBe(202);
    const rotated = await fetch(`${replicas[0]!.url}/v1/admin/sources/${source.id}/rotate-key`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    }).then((r) => r.json() as Promise<{ apiKey: string }>);
    expect((await post(1, source.apiKey, lead())).status).toBe(401);
    expect((await post(1, rotated.apiKey, lead())).status).toBe(202);
  });

  // The ingest caches partners by feedback key (ADR 0026 "Group commit"); the rotation drops them everywhere.
  it('stop taking a rotated feedback key at once, on every replica', async () => {
    const partner = await stack.createPartner({ url: 'http://127.0.0.1:9/leads' });
    const feedback = (replica: number, key: string) =>
      fetch(`${replicas[replica]!.url}/v1/feedback`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ leadId: '00000000-0000-4000-8000-000000000000', event: 'converted' }),
      }).then((r) => r.status);
    // A known key, twice (the second from the cache): past the key, the lead is not one the partner bought.
    expect(await feedback(1, partner.feedbackKey)).toBe(404);
    expect(await feedback(1, partner.feedbackKey)).toBe(404);
    const rotated = await fetch(`${replicas[0]!.url}/v1/admin/partners/${partner.id}/rotate-feedback-key`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    }).then((r) => r.json() as Promise<{ feedbackKey: string }>);
    expect(await feedback(1, partner.feedbackKey)).toBe(401);
    expect(await feedback(0, partner.feedbackKey)).toBe(401);
    expect(await feedback(1, rotated.feedbackKey)).toBe(404);
  });
});

describe('configuration errors', () => {
  it('stop the process at once with one line naming the variable', async () => {
    const root = path.resolve(__dirname, '../..');
    const child = spawn(process.execPath, [...TS_NODE_ARGS, 'services/ingest/src/main.ts'], {
      cwd: root,
      env: {
        ...process.env,
        PORT: 'eighty',
        NODE_ENV: 'production',
        ADMIN_TOKEN: 'replica-admin-token-0123456789abcdef',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^leadrouter ingest: PORT="eighty" is invalid/);
  });
});
