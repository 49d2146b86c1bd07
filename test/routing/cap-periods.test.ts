import type { WorkerDeps } from '../../services/worker/src/deps';
import { routeLead } from '../../services/worker/src/route-lead';
import { retryDeadLetter } from '@leadrouter/lifecycle';
import { FakePartner, type PartnerReply } from '../support/partner';
import { sampleLead, TestStack } from '../support/stack';

/**
 * Caps over periods, on a clock the test sets (docs/decisions/0030-cap-counters.md): leads are routed by
 * calling the route job with explicit times either side of a week's and a month's turn on the partner's clock;
 * the partner answers at once, so each lead settles within its call. Also: slots and reservations given back
 * by rejections, answer prices replacing what was reserved, counters reset when the partner's clock changes.
 */
describe('caps over their periods', () => {
  const stack = new TestStack({ worker: false });
  let clock = new Date();
  let direct: WorkerDeps;
  let key: string;
  let posted = 0;
  const fakes: FakePartner[] = [];

  beforeAll(async () => {
    await stack.start();
    key = (await stack.createSource()).apiKey;
    direct = stack.directWorkerDeps({ now: () => clock });
  });
  afterAll(async () => {
    await Promise.all(fakes.map((f) => f.stop()));
    await stack.stop();
  });
  afterEach(() => stack.db.route.updateMany({ data: { active: false } }));

  const all = ['00:00-24:00'];
  const paris = {
    timezone: 'Europe/Paris',
    days: { mon: all, tue: all, wed: all, thu: all, fri: all, sat: all, sun: all },
  };

  /** A partner answering `reply` (by default accepting), alone on a new route. */
  async function partnerAlone(
    config: Record<string, unknown>,
    reply: (i: number) => PartnerReply = () => ({ status: 200 }),
  ) {
    const fake = await new FakePartner((_req, i) => reply(i)).start();
    fakes.push(fake);
    const p = await stack.createPartner({ url: fake.url, ...config });
    await stack.createRoute({ partners: [{ partnerId: p.id }] });
    return { ...p, fake };
  }

  /** Posts a lead and routes it at `at`: what became of it and, when skipped, why. */
  async function leadAt(at: string): Promise<{ status: string; reason?: string }> {
    posted += 1;
    const res = await stack.request('POST', '/v1/leads', {
      key,
      body: sampleLead({ phone: `+1 415 555 ${String(6000 + posted)}`, email: `period${posted}@example.com` }),
    });
    expect(res.status).toBe(202);
    clock = new Date(at);
    await routeLead(direct, res.body.id);
    const lead = await stack.db.lead.findUniqueOrThrow({ where: { id: res.body.id } });
    const decisions = (lead.routing as { decisions: { decision: string; reason?: string }[] }).decisions;
    const skipped = decisions.find((d) => d.decision === 'skipped');
    return { status: lead.status, ...(skipped?.reason ? { reason: skipped.reason } : {}) };
  }

  const counted = async (partnerId: string) =>
    (
      await stack.db.capCounter.findMany({ where: { partnerId }, orderBy: [{ period: 'asc' }, { periodStart: 'asc' }] })
    ).map((r) => `${r.period} ${r.periodStart.toISOString()} ${r.count} ${r.amount.toFixed(2)}`);

  it('turns weeks on Monday at midnight and months on the 1st, on the partner’s clock', async () => {
    const p = await partnerAlone({ schedule: paris, caps: { weekly: 2, monthly: 3 } });
    // Sunday 11 January 2026, 23:59:59.999 in Paris (UTC+1): the week that began on Monday the 5th.
    expect(await leadAt('2026-01-11T22:59:59.000Z')).toEqual({ status: 'delivered' });
    expect(await leadAt('2026-01-11T22:59:59.999Z')).toEqual({ status: 'delivered' });
    expect(await leadAt('2026-01-11T22:59:59.999Z')).toEqual({
      status: 'unmatched',
      reason: 'weekly cap of 2 reached',
    });
    // Monday 00:00 in Paris, still Sunday in UTC: a new week, the same month.
    expect(await leadAt('2026-01-11T23:00:00.000Z')).toEqual({ status: 'delivered' });
    expect(await leadAt('2026-01-12T08:00:00.000Z')).toEqual({
      status: 'unmatched',
      reason: 'monthly cap of 3 reached',
    });
    // 31 January 23:59:59.999 in Paris is still January; 1 February 00:00 there is 31 January 23:00 UTC.
    expect(await leadAt('2026-01-31T22:59:59.999Z')).toEqual({
      status: 'unmatched',
      reason: 'monthly cap of 3 reached',
    });
    expect(await leadAt('2026-01-31T23:00:00.000Z')).toEqual({ status: 'delivered' });
    expect(await counted(p.id)).toEqual([
      'week 2026-01-04T23:00:00.000Z 2 0.00',
      'week 2026-01-11T23:00:00.000Z 1 0.00',
      'week 2026-01-25T23:00:00.000Z 1 0.00',
      'month 2025-12-31T23:00:00.000Z 3 0.00',
      'month 2026-01-31T23:00:00.000Z 1 0.00',
    ]);
  });

  it('holds daily and monthly budgets to what the partner pays, to the cent', async () => {
    const p = await partnerAlone({ price: '12.25', caps: { dailyBudget: '24.5', monthlyBudget: 45 } });
    expect(await leadAt('2026-03-30T10:00:00Z')).toEqual({ status: 'delivered' });
    expect(await leadAt('2026-03-30T23:59:59.999Z')).toEqual({ status: 'delivered' }); // 24.50 of 24.50
    expect(await leadAt('2026-03-30T23:59:59.999Z')).toEqual({
      status: 'unmatched',
      reason: 'daily budget of 24.5000 reached',
    });
    expect(await leadAt('2026-03-31T00:00:00Z')).toEqual({ status: 'delivered' }); // 36.75 of 45
    expect(await leadAt('2026-03-31T01:00:00Z')).toEqual({
      status: 'unmatched',
      reason: 'monthly budget of 45.0000 reached (8.2500 left, the lead reserves 12.2500)',
    });
    expect(await leadAt('2026-04-01T00:00:00Z')).toEqual({ status: 'delivered' });
    expect(await counted(p.id)).toEqual([
      'day 2026-03-30T00:00:00.000Z 2 24.50',
      'day 2026-03-31T00:00:00.000Z 1 12.25',
      'day 2026-04-01T00:00:00.000Z 1 12.25',
      'month 2026-03-01T00:00:00.000Z 3 36.75',
      'month 2026-04-01T00:00:00.000Z 1 12.25',
    ]);
  });

  it('gives a slot and its reservation back when the partner rejects, so the next lead gets through', async () => {
    const p = await partnerAlone({ price: 10, caps: { daily: 1, dailyBudget: 10 } }, (i) =>
      i === 0 ? { status: 400, body: { reason: 'not today' } } : { status: 200 },
    );
    expect(await leadAt('2026-05-04T09:00:00Z')).toEqual({ status: 'unsold' });
    expect(await counted(p.id)).toEqual(['day 2026-05-04T00:00:00.000Z 0 0.00']);
    expect(await leadAt('2026-05-04T09:01:00Z')).toEqual({ status: 'delivered' });
    expect(await leadAt('2026-05-04T09:02:00Z')).toEqual({ status: 'unmatched', reason: 'daily cap of 1 reached' });
    expect(p.fake.requests).toHaveLength(2);
  });

  it('gives a slot back in the period its lead was offered in, not the one it is rejected in', async () => {
    const p = await partnerAlone({ caps: { weekly: 1 } }, (i) => {
      // The answer comes after the week turned (Sunday 23:59:59 → Monday 00:00:01 UTC).
      if (i === 0) clock = new Date('2026-06-08T00:00:01Z');
      return i === 0 ? { status: 400 } : { status: 200 };
    });
    expect(await leadAt('2026-06-07T23:59:59Z')).toEqual({ status: 'unsold' });
    expect(await leadAt('2026-06-08T00:00:02Z')).toEqual({ status: 'delivered' });
    expect(await leadAt('2026-06-08T00:00:03Z')).toEqual({ status: 'unmatched', reason: 'weekly cap of 1 reached' });
    expect(await counted(p.id)).toEqual([
      'week 2026-06-01T00:00:00.000Z 0 0.00',
      'week 2026-06-08T00:00:00.000Z 1 0.00',
    ]);
  });

  it('reserves a partner priced by its answers at its last sale’s price, and counts the real price at acceptance', async () => {
    const prices = ['15', '14.5', '15'];
    const p = await partnerAlone({ responseMap: { price: 'price' }, caps: { dailyBudget: 40 } }, (i) => ({
      status: 200,
      body: { price: prices[i] },
    }));
    // No sale yet: it reserves nothing; then 15, the last price, for the second and the third.
    expect(await leadAt('2026-07-01T10:00:00Z')).toEqual({ status: 'delivered' });
    expect(await counted(p.id)).toEqual(['day 2026-07-01T00:00:00.000Z 1 15.00']);
    expect(await leadAt('2026-07-01T10:01:00Z')).toEqual({ status: 'delivered' });
    expect(await counted(p.id)).toEqual(['day 2026-07-01T00:00:00.000Z 2 29.50']);
    // 29.50 + 14.50 (its last price) would pass 40.
    expect(await leadAt('2026-07-01T10:02:00Z')).toEqual({
      status: 'unmatched',
      reason: 'daily budget of 40.0000 reached (10.5000 left, the lead reserves 14.5000)',
    });
  });

  it('takes a slot again for a dead letter an operator retries, in the period it was offered in', async () => {
    const p = await partnerAlone({ price: 5, maxAttempts: 1, caps: { daily: 1, monthlyBudget: 100 } }, (i) =>
      i === 0 ? { status: 503 } : { status: 200 },
    );
    expect(await leadAt('2026-08-03T12:00:00Z')).toEqual({ status: 'dead_lettered' });
    expect(await counted(p.id)).toEqual([
      'day 2026-08-03T00:00:00.000Z 0 0.00',
      'month 2026-08-01T00:00:00.000Z 0 0.00',
    ]);
    const dead = await stack.db.delivery.findFirstOrThrow({ where: { partnerId: p.id, status: 'dead_lettered' } });
    await retryDeadLetter({ db: stack.db, queues: direct.queues }, dead.id);
    expect(await counted(p.id)).toEqual([
      'day 2026-08-03T00:00:00.000Z 1 5.00',
      'month 2026-08-01T00:00:00.000Z 1 5.00',
    ]);
    // Its slot is taken again: the day is full for new leads.
    expect(await leadAt('2026-08-03T12:05:00Z')).toEqual({ status: 'unmatched', reason: 'daily cap of 1 reached' });
  });

  it('counts afresh from the deliveries when the partner’s clock changes', async () => {
    const p = await partnerAlone({ caps: { daily: 2 } });
    // 22:30 UTC on 9 September: the same day in UTC, already the 10th in Paris.
    expect(await leadAt('2026-09-09T10:00:00Z')).toEqual({ status: 'delivered' });
    expect(await leadAt('2026-09-09T22:30:00Z')).toEqual({ status: 'delivered' });
    expect(await leadAt('2026-09-09T22:40:00Z')).toEqual({ status: 'unmatched', reason: 'daily cap of 2 reached' });
    const patched = await stack.admin('PATCH', `/partners/${p.id}`, { schedule: paris });
    expect(patched.status).toBe(200);
    expect(await counted(p.id)).toEqual([]);
    // In Paris the 10th began at 22:00 UTC on the 9th: one lead of the 10th so far, one slot left.
    expect(await leadAt('2026-09-09T22:50:00Z')).toEqual({ status: 'delivered' });
    expect(await leadAt('2026-09-09T22:55:00Z')).toEqual({ status: 'unmatched', reason: 'daily cap of 2 reached' });
    expect(await counted(p.id)).toEqual(['day 2026-09-09T22:00:00.000Z 2 0.00']);
  });
});
