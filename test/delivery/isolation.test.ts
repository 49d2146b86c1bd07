import { FakePartner, type PartnerReply } from '../support/partner';
import { sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

/**
 * Isolation (ADR 0001; docs/performance.md "No head-of-line blocking"): a slow or failing partner never delays
 * deliveries to the others. With 8 delivery slots in the worker and a partner
 * that never answers, only that partner's own concurrency (2) is spent on it:
 * without per-partner slots its queued deliveries would take all 8 and hold
 * them for its whole timeout, again and again.
 */
describe('a partner that never answers', () => {
  const stack = new TestStack({ env: { WORKER_CONCURRENCY: '8' } });
  const hanging = new FakePartner(() => new Promise<PartnerReply>(() => undefined));
  const instant = new FakePartner();
  let key: string;

  beforeAll(async () => {
    await stack.start();
    await Promise.all([hanging.start(), instant.start()]);
    key = (await stack.createSource()).apiKey;
  });
  afterAll(async () => {
    await Promise.all([hanging.stop(), instant.stop()]);
    await stack.stop();
  });

  async function postBatch(count: number, geo: string, phone: (i: number) => string): Promise<string[]> {
    const res = await stack.request('POST', '/v1/leads/batch', {
      key,
      body: { leads: Array.from({ length: count }, (_, i) => sampleLead({ geo, phone: phone(i) })) },
    });
    expect(res.status).toBe(207);
    return (res.body.results as { status: string; id: string }[]).map((r) => {
      expect(r.status).toBe('accepted');
      return r.id;
    });
  }

  it('does not delay the leads of another partner', async () => {
    const timeoutMs = 10_000;
    const slow = await stack.createPartner({ url: hanging.url, timeoutMs, concurrency: 2, maxAttempts: 2 });
    const fast = await stack.createPartner({ url: instant.url });
    await stack.createRoute({ name: 'us-to-slow', filters: { geo: ['US'] }, partners: [{ partnerId: slow.id }] });
    await stack.createRoute({ name: 'ca-to-fast', filters: { geo: ['CA'] }, partners: [{ partnerId: fast.id }] });

    // 24 deliveries for the hanging partner, queued ahead of the others.
    const stuck = await postBatch(24, 'US', (i) => `+1 415 555 ${3000 + i}`);
    await waitFor(
      async () => (await stack.db.delivery.count({ where: { leadId: { in: stuck }, status: 'pending' } })) === 24,
      { what: 'the 24 leads for the hanging partner to be routed' },
    );
    await waitFor(() => hanging.requests.length >= 2, { what: 'the hanging partner to be sent its first leads' });

    const started = Date.now();
    const quick = await postBatch(20, 'CA', (i) => `+1 416 555 ${3000 + i}`);
    await waitFor(
      async () => (await stack.db.lead.count({ where: { id: { in: quick }, status: 'delivered' } })) === 20,
      { timeoutMs: 20_000, what: 'the 20 leads for the instant partner to be delivered' },
    );
    // All delivered before the hanging partner's first timeout: nothing waited for it. (Without per-partner
    // slots its deliveries take all 8 worker slots, and the others wait for three rounds of timeouts.)
    expect(Date.now() - started).toBeLessThan(timeoutMs);
    expect(await stack.db.deliveryAttempt.count({ where: { delivery: { leadId: { in: stuck } } } })).toBe(0);
    expect(instant.requests).toHaveLength(20);
    // Meanwhile the hanging partner never had more than its 2 requests open.
    expect(hanging.requests).toHaveLength(2);
  }, 40_000);
});

/**
 * A partner's `concurrency` counts its requests in flight, not the worker's
 * bookkeeping after the answer: with one slot, a second lead is sent while
 * the first one's answer is still waiting to be recorded (here: behind a row
 * lock the test holds on the first lead).
 */
describe('a partner with one slot', () => {
  const stack = new TestStack();
  const partner = new FakePartner(() => ({ status: 200, body: { accepted: true }, delayMs: 300 }));

  beforeAll(async () => {
    await stack.start();
    await partner.start();
  });
  afterAll(async () => {
    await partner.stop();
    await stack.stop();
  });

  it('gets its slot back as soon as it has answered', async () => {
    const { apiKey: key } = await stack.createSource();
    const p = await stack.createPartner({ url: partner.url, concurrency: 1 });
    await stack.createRoute({ partners: [{ partnerId: p.id }] });
    const post = async (phone: string) => {
      const res = await stack.request('POST', '/v1/leads', { key, body: sampleLead({ phone }) });
      expect(res.status).toBe(202);
      return res.body.id as string;
    };

    const first = await post('+1 415 555 0170');
    await waitFor(() => partner.requests.length === 1, { what: 'the first lead to reach the partner' });
    // The first lead's delivery is committed (it was sent); its answer cannot be recorded while this lock is held.
    await stack.db.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT id FROM leads WHERE id = ${first}::uuid FOR UPDATE`;
        const second = await post('+1 415 555 0171');
        await waitFor(() => partner.requests.length === 2, {
          what: 'the second lead to reach the partner',
          timeoutMs: 5_000,
        });
        expect(partner.requests[1]!.headers['x-lead-id']).toBe(second);
        expect(await stack.leadStatus(first)).toBe('routing');
      },
      { timeout: 15_000 },
    );
    expect(await stack.finalStatus(first)).toBe('delivered');
  });
});
