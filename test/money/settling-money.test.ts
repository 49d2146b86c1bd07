import { FakePartner, type PartnerReply } from '../support/partner';
import { ADMIN_TOKEN, sampleLead, TestStack } from '../support/stack';
import { gate, waitFor } from '../support/wait';

// A lead whose money moves while it is still routing (issue 13, ADR 0026): on a shared route one buyer accepts
// it and reports a conversion or a return while the other delivery is still out. The feedback's money is
// recorded then; when the other delivery settles, the lead settles in what its ledger makes of it — converted,
// returned only when every buyer's return is approved, else delivered — and its source is told each thing once,
// the sale dated before the events. Real worker, PostgreSQL, Redis; partners and the source's postback
// receiver on loopback; the other buyer's answer held by a gate until the feedback is recorded.

let n = 0;
const lead = () => {
  n++;
  return sampleLead({ geo: 'US', phone: `+1 415 555 ${String(6000 + n)}`, email: `settle-money${n}@example.com` });
};

const ACCEPT: PartnerReply = { status: 200, body: { accepted: true } };
const REJECT: PartnerReply = { status: 400, body: { accepted: false } };

describe('a lead whose money moves while it is still routing', () => {
  const stack = new TestStack();
  const fakes: FakePartner[] = [];
  let affiliate: FakePartner;
  let source: { id: string; apiKey: string };

  beforeAll(async () => {
    await stack.start();
    affiliate = await new FakePartner(() => ({ status: 204 })).start();
    // Half of what the partners pay, on each sale and conversion; clawed back on a return.
    source = await stack.createSource({ postbackUrl: affiliate.url, payout: { model: 'revshare', percent: 50 } });
  });
  afterAll(async () => {
    await Promise.all([affiliate, ...fakes].map((f) => f.stop()));
    await stack.stop();
  });
  afterEach(async () => {
    await stack.db.route.updateMany({ data: { active: false } });
  });

  const postbacksOf = (id: string) =>
    affiliate.requests
      .map((r) => r.json as { id: string; status: string; payout?: number; reason?: string; at: string })
      .filter((b) => b.id === id);

  it.each([
    ['converted', 'rejects', 'converted'],
    ['converted', 'buys it too', 'converted'],
    ['returned', 'rejects', 'returned'],
    ['returned', 'buys it too', 'delivered'],
  ] as const)('first buyer %s, the other %s: settles %s', async (event, other, expected) => {
    const answer = gate();
    const first = await new FakePartner(() => ACCEPT).start();
    const second = await new FakePartner(async () => {
      await answer.opened;
      return other === 'rejects' ? REJECT : ACCEPT;
    }).start();
    fakes.push(first, second);
    const buyer = await stack.createPartner({
      url: first.url,
      price: 10,
      conversionPrice: 40,
      maxAttempts: 1,
      returns: { windowDays: 30, autoApprove: true },
    });
    const late = await stack.createPartner({ url: second.url, price: 6, maxAttempts: 1 });
    await stack.createRoute({ maxDeliveries: 2, partners: [{ partnerId: buyer.id }, { partnerId: late.id }] });

    const { body } = await stack.request('POST', '/v1/leads', { key: source.apiKey, body: lead() });
    const id = body.id as string;
    await waitFor(
      async () =>
        (await stack.db.delivery.findFirst({ where: { leadId: id, partnerId: buyer.id } }))?.status === 'accepted',
      {
        what: 'the first buyer to accept',
      },
    );
    await waitFor(() => second.requests.length === 1, { what: 'the other delivery to be out' });

    const fed = await stack.request('POST', '/v1/feedback', {
      key: buyer.feedbackKey,
      body: { leadId: id, event, reason: event === 'returned' ? 'wrong number' : undefined, eventId: `${event}-${id}` },
    });
    expect(fed.status).toBe(202);
    expect(fed.body.outcome).toBe(event);
    // Its money is recorded, its status waits for the routing to end.
    expect(await stack.leadStatus(id)).toBe('routing');

    answer.open();
    expect(await stack.finalStatus(id)).toBe(expected);

    const view = (await stack.request('GET', `/v1/leads/${id}`, { key: ADMIN_TOKEN })).body as {
      events: { status: string; partner?: string }[];
    };
    const buyerName = (await stack.db.partner.findUniqueOrThrow({ where: { id: buyer.id } })).name;
    expect(view.events.map((e) => e.status)).toEqual(
      expected === 'delivered' ? ['queued', 'routing', 'delivered'] : ['queued', 'routing', 'delivered', expected],
    );
    if (expected !== 'delivered') expect(view.events.at(-1)?.partner).toBe(buyerName);

    // The source is told of the sale once and of the event once: a postback row each, each sent once.
    const sale = other === 'rejects' ? 5 : 8; // half of 10, or of 10 + 6
    const told = event === 'converted' ? { status: 'converted', payout: 20 } : { status: 'returned', payout: -5 };
    await waitFor(
      async () =>
        (await stack.db.postback.findMany({ where: { leadId: id } })).every((p) => p.status === 'delivered') &&
        postbacksOf(id).length === 2,
      { what: 'both postbacks sent' },
    );
    const rows = await stack.db.postback.findMany({ where: { leadId: id } });
    expect(rows.map((p) => [p.leadStatus ?? p.event, p.attempts]).sort()).toEqual(
      [
        ['delivered', 1],
        [event, 1],
      ].sort(),
    );
    const bodies = postbacksOf(id);
    const delivered = bodies.find((b) => b.status === 'delivered')!;
    const moved = bodies.find((b) => b.status === event)!;
    expect(delivered).toMatchObject({ payout: sale });
    expect(moved).toMatchObject(told);
    if (event === 'returned') expect(moved.reason).toBe('wrong number');
    // In the source's terms: no partner's name, no partner's price.
    for (const b of bodies)
      expect(Object.keys(b).filter((k) => !['id', 'status', 'payout', 'reason', 'at'].includes(k))).toEqual([]);
    expect(JSON.stringify(bodies)).not.toContain(buyerName);
    // The sale first: a source ordering its postbacks by `at` ends on the lead's status.
    expect(Date.parse(delivered.at)).toBeLessThanOrEqual(Date.parse(moved.at));
  });
});
