import pg from 'pg';
import { FakePartner, type PartnerReply } from '../support/partner';
import { ADMIN_TOKEN, sampleLead, TestStack } from '../support/stack';
import { gate, waitFor } from '../support/wait';

let n = 0;
const lead = (overrides: Record<string, unknown> = {}) => {
  n++;
  return sampleLead({ phone: `+1 415 555 ${String(3000 + n)}`, email: `settling${n}@example.com`, ...overrides });
};

const ACCEPT: PartnerReply = { status: 200, body: { accepted: true } };

/**
 * How a lead settles when its deliveries end in different ways and in
 * either order, and when other leads and operators act on the same partners
 * and the same lead meanwhile (README "How routing decides" and the runbook's
 * dead letters in "Operating it"; ADR 0007 on retries and exclusivity). Real
 * worker, real PostgreSQL and Redis, partners on loopback; every interleaving
 * is made by holding a partner's answer (a gate) or the lead's row lock.
 */
describe('settling a lead while others act on it', () => {
  const stack = new TestStack();
  const partners: FakePartner[] = [];
  let source: { id: string; apiKey: string };
  let affiliate: FakePartner;

  beforeAll(async () => {
    await stack.start();
    affiliate = await new FakePartner(() => ({ status: 200 })).start();
    source = await stack.createSource({ postbackUrl: affiliate.url });
  });
  afterAll(async () => {
    await Promise.all([affiliate, ...partners].map((p) => p.stop()));
    await stack.stop();
  });
  afterEach(async () => {
    await stack.db.route.updateMany({ data: { active: false } });
  });

  /** A loopback partner and its record: one attempt per round (a 5xx dead-letters at once) unless told otherwise. */
  async function partner(fake: FakePartner, config: Record<string, unknown> = {}) {
    partners.push(await fake.start());
    const record = await stack.createPartner({
      url: fake.url,
      maxAttempts: 1,
      backoff: { delayMs: 10, maxDelayMs: 20 },
      ...config,
    });
    return { fake, id: record.id, name: record.name };
  }

  async function post(body = lead()): Promise<string> {
    const res = await stack.request('POST', '/v1/leads', { key: source.apiKey, body });
    expect(res.status).toBe(202);
    return res.body.id as string;
  }

  async function view(id: string) {
    return (await stack.request('GET', `/v1/leads/${id}`, { key: ADMIN_TOKEN })).body as {
      status: string;
      events: { status: string }[];
      routing: { partners: { partner: string; decision: string; reason?: string }[] };
    };
  }

  const deliveryOf = (leadId: string, partnerId: string) =>
    stack.db.delivery.findFirstOrThrow({ where: { leadId, partnerId } });

  const deliveryIs = (leadId: string, partnerId: string, status: string) =>
    waitFor(async () => (await deliveryOf(leadId, partnerId)).status === status, {
      what: `the lead's delivery to ${partnerId} to be ${status}`,
    });

  /** The lead ids a partner was sent, in order. */
  const sent = (fake: FakePartner) => fake.requests.map((r) => r.headers['x-lead-id']);

  describe('a shared lead that one partner bought and another dead-lettered', () => {
    it.each([
      ['the dead letter comes first', 'dead letter'],
      ['the sale comes first', 'sale'],
    ])('ends delivered, whichever settles last (%s)', async (_title, first) => {
      const buyerAnswers = gate();
      const failureAnswers = gate();
      if (first === 'sale') buyerAnswers.open();
      else failureAnswers.open();
      const buyer = await partner(
        new FakePartner(async () => {
          await buyerAnswers.opened;
          return ACCEPT;
        }),
      );
      const failing = await partner(
        new FakePartner(async () => {
          await failureAnswers.opened;
          return { status: 503 };
        }),
      );
      await stack.createRoute({ maxDeliveries: 2, partners: [{ partnerId: buyer.id }, { partnerId: failing.id }] });

      const id = await post();
      if (first === 'sale') {
        await deliveryIs(id, buyer.id, 'accepted');
        expect(await stack.leadStatus(id)).toBe('routing'); // the other delivery is still out
        failureAnswers.open();
      } else {
        await deliveryIs(id, failing.id, 'dead_lettered');
        expect(await stack.leadStatus(id)).toBe('routing');
        buyerAnswers.open();
      }

      expect(await stack.finalStatus(id)).toBe('delivered');
      const detail = await view(id);
      expect(detail.events.map((e) => e.status)).toEqual(['queued', 'routing', 'delivered']);
      // One postback, for the final status only.
      const postbacks = await stack.db.postback.findMany({ where: { leadId: id } });
      expect(postbacks.map((p) => p.leadStatus)).toEqual(['delivered']);
      // The dead letter stays an operator's to retry: it may still fill the second share.
      expect((await deliveryOf(id, failing.id)).status).toBe('dead_lettered');
      const dead = (await stack.admin('GET', `/dead-letters?partner=${failing.id}`)).body.items;
      expect(dead).toEqual([expect.objectContaining({ leadId: id, status: 'dead_lettered' })]);
      expect([sent(buyer.fake), sent(failing.fake)]).toEqual([[id], [id]]);
    });
  });

  it('moves on to the next candidate when another lead took the last slot of a capped candidate after the routing decision', async () => {
    const firstAnswers = gate();
    const first = await partner(
      new FakePartner(async () => {
        await firstAnswers.opened;
        return { status: 400, body: { accepted: false } };
      }),
    );
    const capped = await partner(new FakePartner(() => ACCEPT), { caps: { daily: 1 } });
    const next = await partner(new FakePartner(() => ACCEPT));
    // Leads from the channel "waterfall" try first, capped, next; those from "direct" go to capped alone.
    await stack.createRoute({
      priority: 10,
      filters: { source: ['waterfall'] },
      partners: [{ partnerId: first.id }, { partnerId: capped.id }, { partnerId: next.id }],
    });
    await stack.createRoute({ priority: 5, filters: { source: ['direct'] }, partners: [{ partnerId: capped.id }] });

    // Routed while the capped partner had its slot free: it is the second candidate.
    const waiting = await post(lead({ source: 'waterfall' }));
    await waitFor(() => first.fake.requests.length === 1, { what: 'the first candidate to be offered the lead' });
    // Meanwhile another lead takes the capped partner's only slot of the day.
    const other = await post(lead({ source: 'direct' }));
    expect(await stack.finalStatus(other)).toBe('delivered');

    // The first candidate rejects: the capped one is full now, so the lead goes on to the next.
    firstAnswers.open();
    expect(await stack.finalStatus(waiting)).toBe('delivered');
    expect(sent(capped.fake)).toEqual([other]); // never over its cap
    expect(sent(next.fake)).toEqual([waiting]);
    expect((await view(waiting)).routing.partners).toEqual([
      expect.objectContaining({ partner: first.name, decision: 'rejected' }),
      expect.objectContaining({ partner: capped.name, decision: 'skipped', reason: 'daily cap of 1 reached' }),
      expect.objectContaining({ partner: next.name, decision: 'accepted' }),
    ]);
    expect(await stack.db.delivery.count({ where: { partnerId: capped.id, status: 'accepted' } })).toBe(1);
  });

  describe('an operator retrying a dead letter while the worker advances the same lead', () => {
    let locker: pg.Client;
    beforeAll(async () => {
      locker = new pg.Client({ connectionString: stack.database.url });
      await locker.connect();
    });
    afterAll(() => locker.end());

    /** Sessions of the test database waiting for a lock (here: for the lead's row, which `locker` holds). */
    const lockWaiters = async () =>
      (
        await locker.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        )
      ).rows[0]!.n;
    const waiters = (count: number) =>
      waitFor(async () => (await lockWaiters()) >= count, { what: `${count} sessions waiting for the lead's lock` });

    // The lead is exclusive: it dead-letters at the first partner and is out with the second when the operator
    // retries the dead letter. The test holds the lead's row lock, lets the worker (recording the second
    // partner's answer) and the retry queue up behind it in the given order, and lets go.
    it.each([
      ['the worker records the sale first', 'worker', 'accept', 409, 'sold', 'delivered'],
      ['the retry comes first', 'retry', 'accept', 409, 'busy', 'delivered'],
      ['the worker records a rejection first', 'worker', 'reject', 200, undefined, 'delivered'],
      ['the retry comes first, then a rejection', 'retry', 'reject', 409, 'busy', 'dead_lettered'],
    ] as const)(
      'never sells the lead twice and settles it consistently (%s)',
      async (_title, firstInLine, secondAnswer, retryStatus, refusal, finalStatus) => {
        // The first partner fails once (dead letter), then accepts whatever is retried.
        const flaky = await partner(FakePartner.sequence({ status: 503 }, ACCEPT));
        const secondAnswers = gate();
        const second = await partner(
          new FakePartner(async () => {
            await secondAnswers.opened;
            return secondAnswer === 'accept' ? ACCEPT : { status: 400, body: { accepted: false } };
          }),
        );
        await stack.createRoute({ partners: [{ partnerId: flaky.id }, { partnerId: second.id }] });
        const id = await post();
        await waitFor(() => second.fake.requests.length === 1, { what: 'the lead to be out with the second partner' });
        const dead = await deliveryOf(id, flaky.id);
        expect(dead.status).toBe('dead_lettered');

        await locker.query('BEGIN');
        let retry: ReturnType<typeof stack.admin> | undefined;
        try {
          await locker.query('SELECT 1 FROM leads WHERE id = $1 FOR UPDATE', [id]);
          const before = await lockWaiters();
          if (firstInLine === 'worker') {
            secondAnswers.open();
            await waiters(before + 1);
            retry = stack.admin('POST', `/dead-letters/${dead.id}/retry`);
          } else {
            retry = stack.admin('POST', `/dead-letters/${dead.id}/retry`);
            await waiters(before + 1);
            secondAnswers.open();
          }
          await waiters(before + 2);
        } finally {
          await locker.query('COMMIT');
        }
        const answer = await retry;
        expect([answer.status, answer.body.reason]).toEqual([retryStatus, refusal]);

        expect(await stack.finalStatus(id)).toBe(finalStatus);
        const deliveries = await stack.db.delivery.findMany({ where: { leadId: id } });
        expect(deliveries.filter((d) => d.status === 'accepted')).toHaveLength(finalStatus === 'delivered' ? 1 : 0);
        expect(await stack.db.delivery.count({ where: { leadId: id, status: 'pending' } })).toBe(0);
        // The partners saw the lead as often as the outcome says: the retried one only when the retry went through.
        expect(sent(flaky.fake)).toEqual(retryStatus === 200 ? [id, id] : [id]);
        expect(sent(second.fake)).toEqual([id]);
        // The history ends with the final status, and its postback was sent for it.
        const events = (await view(id)).events.map((e) => e.status);
        expect(events.at(-1)).toBe(finalStatus);
        const postbacks = await stack.db.postback.findMany({ where: { leadId: id }, orderBy: { createdAt: 'asc' } });
        expect(postbacks.map((p) => p.leadStatus).at(-1)).toBe(finalStatus);
      },
    );
  });
});
