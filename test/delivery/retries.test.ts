import { FakePartner, type PartnerReply } from '../support/partner';
import { ADMIN_TOKEN, sampleLead, TestStack } from '../support/stack';

/**
 * README "What a partner receives", through the real worker: a 429's Retry-After sets the next
 * attempt's time instead of the backoff; a partner that never answers times
 * out at its timeoutMs, is retried, then dead-lettered with the timeout as
 * its error. (classify() and send() test the same cases without a worker.)
 */
describe('retries through the worker', () => {
  const stack = new TestStack();
  let key: string;
  let partner: FakePartner | undefined;
  let phone = 5000;

  beforeAll(async () => {
    await stack.start();
    key = (await stack.createSource()).apiKey;
  });
  afterAll(() => stack.stop());
  afterEach(async () => {
    await partner?.stop();
    partner = undefined;
    await stack.db.route.updateMany({ data: { active: false } });
  });

  async function deliverTo(fake: FakePartner, config: Record<string, unknown>) {
    partner = await fake.start();
    const p = await stack.createPartner({ url: fake.url, ...config });
    await stack.createRoute({ partners: [{ partnerId: p.id }] });
    const res = await stack.request('POST', '/v1/leads', { key, body: sampleLead({ phone: `+1 415 555 ${phone++}` }) });
    expect(res.status).toBe(202);
    return { partnerId: p.id, partnerName: p.name, leadId: res.body.id as string };
  }

  const attempts = (leadId: string) =>
    stack.db.deliveryAttempt.findMany({ where: { delivery: { leadId } }, orderBy: { attempt: 'asc' } });

  it('retries a 429 after its Retry-After, not after the backoff', async () => {
    // The backoff would wait 5–10 s before the second attempt.
    const fake = FakePartner.sequence({ status: 429, headers: { 'retry-after': '1' } }, { status: 200 });
    const { leadId } = await deliverTo(fake, { backoff: { delayMs: 10_000, maxDelayMs: 60_000 } });

    expect(await stack.finalStatus(leadId)).toBe('delivered');
    const [first, second] = fake.requests;
    const gap = second!.at - first!.at;
    expect(gap).toBeGreaterThanOrEqual(950);
    expect(gap).toBeLessThan(3_000);
    expect(second!.headers['idempotency-key']).toBe(first!.headers['idempotency-key']);
    expect((await attempts(leadId)).map((a) => [a.attempt, a.outcome, a.httpStatus, a.error])).toEqual([
      [1, 'retry', 429, 'HTTP 429'],
      [2, 'accepted', 200, null],
    ]);
  });

  it('times out a partner that never answers, retries it, then dead-letters it with the timeout recorded', async () => {
    const fake = new FakePartner(() => new Promise<PartnerReply>(() => undefined));
    const { leadId, partnerName } = await deliverTo(fake, {
      timeoutMs: 300,
      maxAttempts: 2,
      backoff: { delayMs: 50, maxDelayMs: 100 },
    });

    expect(await stack.finalStatus(leadId)).toBe('dead_lettered');
    expect(fake.requests).toHaveLength(2);
    const recorded = await attempts(leadId);
    expect(recorded.map((a) => [a.attempt, a.outcome, a.httpStatus])).toEqual([
      [1, 'retry', null],
      [2, 'failed', null],
    ]);
    for (const a of recorded) {
      expect(a.error).toMatch(/^ETIMEDOUT: .*300 ?ms/);
      expect(a.durationMs).toBeGreaterThanOrEqual(290);
      expect(a.durationMs).toBeLessThan(2_000);
    }

    const dead = await stack.request('GET', `/v1/admin/dead-letters?partner=${partnerName}`, { key: ADMIN_TOKEN });
    expect(dead.body.items).toEqual([
      expect.objectContaining({ leadId, attempts: 2, lastError: expect.stringMatching(/^ETIMEDOUT/) }),
    ]);
  });
});
