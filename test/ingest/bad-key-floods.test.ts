import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { clientKey } from '../../services/ingest/src/http/auth-failures';
import { sampleLead, TestStack } from '../support/stack';

/** The flooding client's own loopback address: the real sources post from 127.0.0.1. */
const FLOODER = '127.0.0.2';
const LIMIT = 50;
const FLOOD = 2_000;

interface Answer {
  status: number;
  retryAfter: string | undefined;
  body: { status?: string; message?: string };
  ms: number;
}

/** One POST over node:http, from `from` (a loopback address of this machine) when given. */
function post(
  url: string,
  path: string,
  opts: { key?: string; body?: unknown; headers?: Record<string, string>; from?: string; agent?: http.Agent },
): Promise<Answer> {
  const started = Date.now();
  const body = JSON.stringify(opts.body ?? sampleLead());
  const headers: Record<string, string> = { 'content-type': 'application/json', ...opts.headers };
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}${path}`,
      { method: 'POST', headers, agent: opts.agent, ...(opts.from ? { localAddress: opts.from } : {}) },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            retryAfter: res.headers['retry-after'],
            body: JSON.parse(text) as Answer['body'],
            ms: Date.now() - started,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** `count` requests made by `concurrency` loops at once; answers in order of sending. */
async function flood(count: number, concurrency: number, send: (i: number) => Promise<Answer>): Promise<Answer[]> {
  const answers: Answer[] = new Array<Answer>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        answers[i] = await send(i);
      }
    }),
  );
  return answers;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sample = async (stack: TestStack, name: string, labels: Record<string, string>) =>
  (await stack.metrics.registry.getSingleMetric(name)!.get()).values.find((v) =>
    Object.entries(labels).every(([k, l]) => v.labels[k] === l),
  )?.value ?? 0;

describe('a flood of bad keys', () => {
  // The sums are written when the test says (flush()), not by the minute's timer halfway through.
  const stack = new TestStack({
    worker: false,
    env: { AUTH_FAILURES_PER_MINUTE: String(LIMIT) },
    rejectionFlushMs: 3_600_000,
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });

  beforeAll(() => stack.start(), 60_000);
  afterAll(async () => {
    agent.destroy();
    await stack.stop();
  });

  it('is counted in full, kept to a few rows, throttled per address, and does not slow a real source', async () => {
    const real = await stack.createSource({ name: 'real-source' });
    const neighbour = await stack.createSource({ name: 'neighbour' });
    const stranger = await stack.createSource({ name: 'stranger' });
    // A source behind the flooder's address (a NAT), seen by this ingest before the flood; another one not seen.
    expect((await post(stack.url, '/v1/leads', { key: neighbour.apiKey, from: FLOODER, body: lead() })).status).toBe(
      202,
    );

    // The flood, from one address, with made-up keys and made-up X-Forwarded-For (not trusted: TRUST_PROXY is off),
    // and a real source posting from another address all along.
    const realAnswers: Answer[] = [];
    let flooding = true;
    const realPosts = (async () => {
      while (flooding) realAnswers.push(await post(stack.url, '/v1/leads', { key: real.apiKey, body: lead() }));
    })();
    const answers = await flood(FLOOD, 50, (i) =>
      post(stack.url, '/v1/leads', {
        key: `lr_${randomBytes(16).toString('hex')}`,
        from: FLOODER,
        agent,
        headers: { 'x-forwarded-for': `203.0.113.${i % 250}` },
      }),
    );
    flooding = false;
    await realPosts;

    // The address had its LIMIT of 401s in the minute; everything after was a 429 with Retry-After.
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(LIMIT);
    expect(statuses.filter((s) => s === 429)).toHaveLength(FLOOD - LIMIT);
    expect(statuses.slice(-100)).toEqual(Array(100).fill(429));
    for (const a of answers.filter((x) => x.status === 429)) {
      expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(a.retryAfter)).toBeLessThanOrEqual(60);
      expect(a.body).toMatchObject({ status: 'rejected', message: expect.stringContaining('retry in') });
    }

    // The real source was served all along (bounds generous enough for a shared, loaded machine).
    expect(realAnswers.length).toBeGreaterThan(0);
    expect(realAnswers.map((a) => a.status)).toEqual(realAnswers.map(() => 202));
    expect(median(realAnswers.map((a) => a.ms))).toBeLessThan(2_000);
    expect(Math.max(...realAnswers.map((a) => a.ms))).toBeLessThan(5_000);

    // From the throttled address: sources still post, whether this ingest has seen their key or not; a request
    // without a key, or with a made-up one, waits.
    for (const source of [neighbour, stranger])
      expect((await post(stack.url, '/v1/leads', { key: source.apiKey, from: FLOODER, body: lead() })).status).toBe(
        202,
      );
    expect((await post(stack.url, '/v1/leads', { from: FLOODER })).status).toBe(429);
    expect((await post(stack.url, '/v1/leads', { key: 'lr_made_up', from: FLOODER })).status).toBe(429);

    // Every bad-key request is in the metrics...
    const throttled = FLOOD - LIMIT + 2;
    expect(await sample(stack, 'leadrouter_ingest_auth_failures_total', { answer: 'unauthorized' })).toBe(LIMIT);
    expect(await sample(stack, 'leadrouter_ingest_auth_failures_total', { answer: 'throttled' })).toBe(throttled);
    expect(await sample(stack, 'leadrouter_leads_received_total', { source: 'unknown', answer: 'unauthorized' })).toBe(
      LIMIT + throttled,
    );

    // ...and in the database as one row per reason, written with the minute's sums.
    const rows = () =>
      stack.db.ingestRejection.findMany({
        where: { sourceId: null },
        select: { reason: true, httpStatus: true, count: true },
      });
    expect(await rows()).toEqual([]);
    await stack.rejections.flush();
    expect((await rows()).sort((a, b) => a.httpStatus - b.httpStatus)).toEqual([
      { reason: 'unauthorized', httpStatus: 401, count: LIMIT },
      { reason: 'auth_throttled', httpStatus: 429, count: throttled },
    ]);
    const stats = (await stack.admin('GET', '/stats')).body as { rejections: { total: number; byReason: object } };
    expect(stats.rejections.byReason).toEqual({ unauthorized: LIMIT, auth_throttled: throttled });
    expect(stats.rejections.total).toBe(LIMIT + throttled);
  }, 120_000);
});

describe('client addresses', () => {
  const stack = new TestStack({ worker: false, env: { AUTH_FAILURES_PER_MINUTE: '3', TRUST_PROXY: 'loopback' } });
  beforeAll(() => stack.start(), 60_000);
  afterAll(() => stack.stop());

  it('come from X-Forwarded-For only through a proxy TRUST_PROXY names', async () => {
    const from = (address: string) =>
      post(stack.url, '/v1/leads', { key: 'lr_made_up', headers: { 'x-forwarded-for': address } });
    const a = [];
    for (let i = 0; i < 5; i++) a.push((await from('198.51.100.7')).status);
    expect(a).toEqual([401, 401, 401, 429, 429]);
    // Another client behind the same (trusted) proxy is not throttled.
    expect((await from('198.51.100.8')).status).toBe(401);
    // IPv6 clients are counted by their /64: another address in it is the same client.
    for (let i = 0; i < 3; i++) expect((await from(`2001:db8:1:2::${i + 1}`)).status).toBe(401);
    expect((await from('2001:db8:1:2:ffff::9')).status).toBe(429);
    expect((await from('2001:db8:1:3::1')).status).toBe(401);
  });

  it('are IPv4 addresses and IPv6 /64 networks', () => {
    expect(clientKey('203.0.113.9')).toBe('203.0.113.9');
    expect(clientKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(clientKey('2001:db8:0:1::42')).toBe('2001:db8:0:1::/64');
    expect(clientKey('2001:0DB8:0000:0001:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:0:1::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey(undefined)).toBe('unknown');
  });
});

let n = 0;
function lead() {
  n++;
  return sampleLead({ phone: `+1 415 555 ${String(2000 + n).padStart(4, '0')}`, email: `flood${n}@example.com` });
}
