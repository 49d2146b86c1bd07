import { FakePartner } from '../support/partner';
import { ADMIN_TOKEN, sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

/**
 * The circuit breaker (README "Pausing and resuming partners"): `pauseAfterFailures` failed attempts in a
 * row, or one 410 Gone, pause a partner; new leads skip it, its retries wait
 * (parked) until `POST /v1/admin/partners/:id/resume` requeues them; a real
 * answer (2xx or 4xx) clears the count.
 */
describe('the circuit breaker', () => {
  const stack = new TestStack();
  const fakes: FakePartner[] = [];
  let key: string;
  let phone = 4000;

  beforeAll(async () => {
    await stack.start();
    key = (await stack.createSource()).apiKey;
  });
  afterAll(async () => {
    await Promise.all(fakes.map((f) => f.stop()));
    await stack.stop();
  });
  afterEach(() => stack.db.route.updateMany({ data: { active: false } }));

  async function partner(fake: FakePartner, config: Record<string, unknown> = {}) {
    fakes.push(await fake.start());
    const created = await stack.createPartner({ url: fake.url, backoff: { delayMs: 50, maxDelayMs: 200 }, ...config });
    return { fake, ...created };
  }

  async function postLead(): Promise<string> {
    const res = await stack.request('POST', '/v1/leads', {
      key,
      body: sampleLead({ phone: `+1 415 555 ${phone++}` }),
    });
    expect(res.status).toBe(202);
    return res.body.id;
  }

  const lead = async (id: string) => (await stack.request('GET', `/v1/leads/${id}`, { key: ADMIN_TOKEN })).body;

  it('pauses a partner after 3 failures in a row, parks its retry, and delivers it once resumed', async () => {
    let healthy = false;
    const failing = await partner(
      new FakePartner(() => (healthy ? { status: 200, body: { ok: true } } : { status: 500 })),
      { pauseAfterFailures: 3, maxAttempts: 10 },
    );
    const backup = await partner(new FakePartner());
    await stack.createRoute({ partners: [{ partnerId: failing.id }, { partnerId: backup.id }] });

    const first = await postLead();
    const paused = await waitFor(
      async () => {
        const view = (await stack.admin('GET', `/partners/${failing.id}`)).body;
        return view.status === 'paused' ? view : undefined;
      },
      { what: 'the partner to be paused' },
    );
    expect(paused.pauseReason).toMatch(/^3 failed attempts in a row \(last: HTTP 500\)/);
    expect(paused.pausedAt).toEqual(expect.any(String));

    // The fourth attempt found the partner paused: the delivery waits, parked, with no due time.
    const delivery = await waitFor(
      () =>
        stack.db.delivery.findFirst({
          where: { leadId: first, partnerId: failing.id, status: 'pending', attempts: 3, nextAttemptAt: null },
        }),
      { what: 'the retry to be parked' },
    );
    expect(failing.fake.requests).toHaveLength(3);
    expect(await stack.leadStatus(first)).toBe('routing');

    // A new lead skips the paused partner, saying why, and goes to the next one.
    const second = await postLead();
    expect(await stack.finalStatus(second)).toBe('delivered');
    expect((await lead(second)).routing.partners).toEqual([
      expect.objectContaining({
        partner: failing.name,
        decision: 'skipped',
        reason: expect.stringMatching(/^partner is paused/),
      }),
      expect.objectContaining({ partner: backup.name, decision: 'accepted' }),
    ]);
    // Several sweeps later, still nothing sent to the paused partner.
    await waitFor(
      async () =>
        (await stack.db.delivery.findUniqueOrThrow({ where: { id: delivery.id } })).updatedAt.getTime() <
        Date.now() - 2 * stack.workerConfig.SWEEP_INTERVAL_MS,
      { what: 'two sweeps to pass' },
    );
    expect(failing.fake.requests).toHaveLength(3);
    expect(await stack.db.delivery.findUniqueOrThrow({ where: { id: delivery.id } })).toMatchObject({
      status: 'pending',
      attempts: 3,
      nextAttemptAt: null,
    });

    healthy = true;
    const resumed = await stack.admin('POST', `/partners/${failing.id}/resume`);
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ status: 'active', pausedAt: null, pauseReason: null, requeued: 1 });

    expect(await stack.finalStatus(first)).toBe('delivered');
    expect(failing.fake.requests).toHaveLength(4);
    expect(new Set(failing.fake.requests.map((r) => r.headers['idempotency-key'])).size).toBe(1);
    expect(
      (await lead(first)).deliveries.map((d: { attempt: number; outcome: string }) => [d.attempt, d.outcome]),
    ).toEqual([
      [1, 'retry'],
      [2, 'retry'],
      [3, 'retry'],
      [4, 'accepted'],
    ]);
    expect((await stack.db.partner.findUniqueOrThrow({ where: { id: failing.id } })).consecutiveFailures).toBe(0);
  });

  it('pauses a partner answering 410 Gone at once, and the lead goes to the next candidate', async () => {
    const gone = await partner(new FakePartner(() => ({ status: 410 })), { maxAttempts: 5 });
    const backup = await partner(new FakePartner());
    await stack.createRoute({ partners: [{ partnerId: gone.id }, { partnerId: backup.id }] });

    const id = await postLead();
    expect(await stack.finalStatus(id)).toBe('delivered');
    expect(gone.fake.requests).toHaveLength(1);
    expect(backup.fake.requests).toHaveLength(1);
    expect((await stack.admin('GET', `/partners/${gone.id}`)).body).toMatchObject({
      status: 'paused',
      pauseReason: 'HTTP 410 Gone: partner paused',
    });
    expect((await lead(id)).routing.partners).toEqual([
      expect.objectContaining({ partner: gone.name, decision: 'rejected', reason: 'HTTP 410 Gone: partner paused' }),
      expect.objectContaining({ partner: backup.name, decision: 'accepted' }),
    ]);

    // The next lead skips it without asking.
    const next = await postLead();
    expect(await stack.finalStatus(next)).toBe('delivered');
    expect(gone.fake.requests).toHaveLength(1);
  });

  it('clears the failure count on a real answer, accepted or rejected', async () => {
    // Six failures, never three in a row: an acceptance and a rejection come in between.
    const flaky = await partner(
      FakePartner.sequence(
        { status: 500 },
        { status: 503 },
        { status: 200 },
        { status: 500 },
        { status: 502 },
        { status: 400 },
        { status: 500 },
        { status: 500 },
        { status: 200 },
      ),
      { pauseAfterFailures: 3, maxAttempts: 5 },
    );
    await stack.createRoute({ partners: [{ partnerId: flaky.id }] });

    expect(await stack.finalStatus(await postLead())).toBe('delivered');
    expect(await stack.finalStatus(await postLead())).toBe('unsold');
    expect(await stack.finalStatus(await postLead())).toBe('delivered');
    expect(flaky.fake.requests).toHaveLength(9);
    expect(await stack.db.partner.findUniqueOrThrow({ where: { id: flaky.id } })).toMatchObject({
      pausedAt: null,
      consecutiveFailures: 0,
    });
  });
});
