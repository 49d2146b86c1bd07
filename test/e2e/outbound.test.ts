import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { FakePartner, type ReceivedRequest } from '../support/partner';
import { sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

/** What the worker sends partners: signed when they have a secret, and never to a private address unless allowed. */

const headerRecord = (headers: IncomingHttpHeaders): Record<string, string> =>
  Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')] as [string, string]),
  );

async function settled(stack: TestStack, id: string): Promise<string> {
  return waitFor(
    async () => {
      const s = await stack.leadStatus(id);
      return s && !['queued', 'routing'].includes(s) ? s : undefined;
    },
    { what: `lead ${id} to settle` },
  );
}

async function routeTo(stack: TestStack, url: string, extra: Record<string, unknown> = {}) {
  const partner = await stack.createPartner({ url, backoff: { delayMs: 20, maxDelayMs: 100 }, ...extra });
  await stack.db.route.updateMany({ data: { active: false } });
  await stack.createRoute({ priority: 10, partners: [{ partnerId: partner.id }], strategy: 'priority' });
  return partner;
}

describe('Standard Webhooks signing of deliveries', () => {
  const stack = new TestStack({ captureLogs: true });
  let source: { apiKey: string };
  let partner: FakePartner | undefined;

  beforeAll(async () => {
    await stack.start();
    source = await stack.createSource();
  });
  afterEach(() => partner?.stop());
  afterAll(() => stack.stop());

  it('signs every attempt; the partner verifies each with the reference library, a retry keeping its webhook-id', async () => {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const verifier = new Webhook(secret);
    const verdicts: string[] = [];
    partner = await new FakePartner((req: ReceivedRequest, i) => {
      try {
        verifier.verify(req.body, headerRecord(req.headers));
        verdicts.push('verified');
      } catch (err) {
        verdicts.push(String(err));
      }
      return i === 0 ? { status: 503 } : { status: 200, body: { accepted: true } };
    }).start();
    await routeTo(stack, partner.url, { secret });

    const res = await stack.request('POST', '/v1/leads', { key: source.apiKey, body: sampleLead() });
    expect(res.status).toBe(202);
    expect(await settled(stack, res.body.id)).toBe('delivered');

    expect(verdicts).toEqual(['verified', 'verified']);
    const [first, retry] = partner.requests.map((r) => r.headers);
    expect(first!['webhook-id']).toBe(first!['idempotency-key']);
    expect(retry!['webhook-id']).toBe(first!['webhook-id']);
    const now = Math.floor(Date.now() / 1000);
    for (const h of [first!, retry!]) {
      expect(Number(h['webhook-timestamp'])).toBeGreaterThan(now - 60);
      expect(Number(h['webhook-timestamp'])).toBeLessThanOrEqual(now);
    }
    expect(Number(retry!['webhook-timestamp'])).toBeGreaterThanOrEqual(Number(first!['webhook-timestamp']));

    // The secret is in no log line of either service.
    expect(stack.logLines.length).toBeGreaterThan(0);
    expect(stack.logLines.join('\n')).not.toContain(secret.slice('whsec_'.length, 20));
  });

  it('signs with a secret that is not in whsec_ form as its UTF-8 bytes', async () => {
    const secret = `plain-partner-secret-${randomBytes(8).toString('hex')}`;
    const verifier = new Webhook(Buffer.from(secret, 'utf8'), { format: 'raw' });
    partner = await new FakePartner((req) => {
      verifier.verify(req.body, headerRecord(req.headers));
      return { status: 200 };
    }).start();
    await routeTo(stack, partner.url, { secret });
    const res = await stack.request('POST', '/v1/leads', { key: source.apiKey, body: sampleLead() });
    expect(await settled(stack, res.body.id)).toBe('delivered');
    expect(partner.requests).toHaveLength(1);
    expect(stack.logLines.join('\n')).not.toContain(secret);
  });

  it('sends no signing headers to a partner without a secret', async () => {
    partner = await new FakePartner().start();
    await routeTo(stack, partner.url);
    const res = await stack.request('POST', '/v1/leads', { key: source.apiKey, body: sampleLead() });
    expect(await settled(stack, res.body.id)).toBe('delivered');
    expect(partner.requests[0]!.headers).not.toHaveProperty('webhook-signature');
  });
});

describe('a partner on a private address, with ALLOW_PRIVATE_DESTINATIONS=false', () => {
  const stack = new TestStack({ env: { ALLOW_PRIVATE_DESTINATIONS: 'false' } });
  let partner: FakePartner;

  beforeAll(async () => {
    await stack.start();
    partner = await new FakePartner().start();
  });
  afterAll(async () => {
    await partner.stop();
    await stack.stop();
  });

  it('receives nothing: the one attempt is a rejection that says why, and is not retried', async () => {
    const source = await stack.createSource();
    // A host name, as a saved URL would have: it resolves to loopback only when the worker connects.
    const url = partner.url.replace('127.0.0.1', 'localhost');
    await routeTo(stack, url, { maxAttempts: 8 });

    const res = await stack.request('POST', '/v1/leads', { key: source.apiKey, body: sampleLead() });
    expect(res.status).toBe(202);
    expect(await settled(stack, res.body.id)).toBe('unsold');

    expect(partner.requests).toHaveLength(0);
    const attempts = await stack.db.deliveryAttempt.findMany({ where: { delivery: { leadId: res.body.id } } });
    expect(attempts).toEqual([
      expect.objectContaining({
        attempt: 1,
        outcome: 'rejected',
        httpStatus: null,
        error: expect.stringMatching(
          /^destination localhost resolved to (127\.0\.0\.1|::1), a loopback address; set ALLOW_PRIVATE_DESTINATIONS=true to allow it$/,
        ),
      }),
    ]);
  });
});
