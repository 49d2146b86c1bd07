import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { buildOpenApiDocument } from '../../services/ingest/src/openapi/document';
import { FakePartner } from '../support/partner';
import { sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

/**
 * README "Watching it" (runbook): `GET /v1/admin/stats?since=` counts by status, source
 * and partner (accepted, rejected, delivered, money) — here over real
 * deliveries by the worker, priced by the partner's `price` and by its answer
 * (`responseMap.price`).
 */
describe('GET /v1/admin/stats', () => {
  const stack = new TestStack();
  const fakes: FakePartner[] = [];
  let phone = 6000;

  beforeAll(() => stack.start());
  afterAll(async () => {
    await Promise.all(fakes.map((f) => f.stop()));
    await stack.stop();
  });

  async function partner(fake: FakePartner, config: Record<string, unknown> = {}) {
    fakes.push(await fake.start());
    return stack.createPartner({ url: fake.url, backoff: { delayMs: 20, maxDelayMs: 50 }, ...config });
  }

  async function postLead(key: string, geo: string): Promise<string> {
    const res = await stack.request('POST', '/v1/leads', {
      key,
      body: sampleLead({ geo, phone: `+1 415 555 ${phone++}` }),
    });
    expect(res.status).toBe(202);
    return res.body.id;
  }

  it('counts deliveries by partner and status, with revenue in total, by partner and by source', async () => {
    // Shared between two buyers: one paid its configured price, one the price in its answer.
    const listed = await partner(new FakePartner(), { price: 12.5 });
    const bidding = await partner(new FakePartner(() => ({ status: 200, body: { bid: { amount: 7.25 } } })), {
      price: 1,
      responseMap: { price: 'bid.amount' },
    });
    await stack.createRoute({
      name: 'shared-us',
      filters: { geo: ['US'] },
      maxDeliveries: 2,
      partners: [{ partnerId: listed.id }, { partnerId: bidding.id }],
    });
    // A waterfall that sells nothing: a rejection, a dead letter (2 attempts), then a retry waiting an hour.
    const refusing = await partner(new FakePartner(() => ({ status: 400 })), { price: 50 });
    const failing = await partner(new FakePartner(() => ({ status: 502 })), { maxAttempts: 2, price: 50 });
    const waiting = await partner(new FakePartner(() => ({ status: 503 })), {
      backoff: { delayMs: 3_600_000 },
      price: 50,
    });
    await stack.createRoute({
      name: 'waterfall-ca',
      filters: { geo: ['CA'] },
      partners: [{ partnerId: refusing.id }, { partnerId: failing.id }, { partnerId: waiting.id }],
    });

    const a = await stack.createSource({ name: 'affiliate-a' });
    const b = await stack.createSource({ name: 'affiliate-b' });
    const sold = [await postLead(a.apiKey, 'US'), await postLead(a.apiKey, 'US'), await postLead(b.apiKey, 'US')];
    const unsold = await postLead(b.apiKey, 'CA');
    await waitFor(async () => (await stack.db.lead.count({ where: { id: { in: sold }, status: 'delivered' } })) === 3, {
      what: 'the shared leads to be delivered',
    });
    await waitFor(() => stack.db.delivery.findFirst({ where: { partnerId: waiting.id, attempts: 1 } }), {
      what: 'the waterfall to reach its last partner',
    });
    await waitFor(
      async () => (await stack.db.delivery.count({ where: { leadId: { in: sold }, status: 'accepted' } })) === 6,
      { what: 'both buyers to accept every shared lead' },
    );

    // A sale from before the window: in the figures only when `since` reaches back to it.
    const twoDaysAgo = new Date(Date.now() - 48 * 3600_000);
    const old = await stack.db.lead.create({
      data: { sourceId: a.id, status: 'delivered', name: 'Old', phone: '+14155550999', createdAt: twoDaysAgo },
    });
    const oldSale = await stack.db.delivery.create({
      data: {
        leadId: old.id,
        partnerId: listed.id,
        status: 'accepted',
        attempts: 1,
        price: 100,
        createdAt: twoDaysAgo,
      },
    });
    await stack.db
      .$executeRaw`INSERT INTO ledger_entries (lead_id, party, party_id, kind, amount, delivery_id, event_id, at)
      VALUES (${old.id}::uuid, 'partner', ${listed.id}::uuid, 'sale', 100, ${oldSale.id}::uuid, ${oldSale.id}::uuid, ${twoDaysAgo})`;

    // A dead letter superseded by a sale elsewhere (offered in the window, on that old lead): its own figure.
    await stack.db.delivery.create({
      data: { leadId: old.id, partnerId: refusing.id, status: 'superseded', attempts: 2, deadLetteredAt: new Date() },
    });

    const stats = await stack.admin('GET', '/stats');
    expect(stats.status).toBe(200);
    expect(validStats(stats.body)).toBe(true);
    expect(validStats.errors ?? []).toEqual([]);
    expect(stats.body.leads).toEqual({ received: 4, byStatus: { delivered: 3, routing: 1 } });
    // 3 × (12.5 + 7.25), exact, with the events behind it.
    expect(stats.body).toMatchObject({
      ...noMoney,
      currency: 'USD', // CURRENCY: every amount's currency
      sales: 6,
      revenue: '59.2500',
      margin: '59.2500',
      conversionRate: 0,
      returnRate: 0,
    });

    const byName = (name: string) => stats.body.partners.find((p: { name: string }) => p.name === name);
    const none = { pending: 0, accepted: 0, rejected: 0, dead_lettered: 0, superseded: 0 };
    expect(byName(listed.name)).toEqual({
      partnerId: listed.id,
      name: listed.name,
      deliveries: { ...none, accepted: 3 },
      attempts: 3,
      pings: { pings: 0, bids: 0, wins: 0, winRate: null, averageBid: null },
      ...noMoney,
      sales: 3,
      revenue: '37.5000',
      margin: '37.5000',
      conversionRate: 0,
      returnRate: 0,
    });
    expect(byName(bidding.name)).toMatchObject({
      deliveries: { ...none, accepted: 3 },
      attempts: 3,
      sales: 3,
      revenue: '21.7500',
    });
    expect(byName(refusing.name)).toMatchObject({
      deliveries: { ...none, rejected: 1, superseded: 1 },
      attempts: 3,
      ...noMoney,
    });
    expect(byName(failing.name)).toMatchObject({ deliveries: { ...none, dead_lettered: 1 }, attempts: 2, ...noMoney });
    expect(byName(waiting.name)).toMatchObject({ deliveries: { ...none, pending: 1 }, attempts: 1, ...noMoney });
    expect(stats.body.partners.map((p: { name: string }) => p.name)).toEqual(
      [listed, bidding, refusing, failing, waiting].map((p) => p.name).sort(),
    );

    const bySource = (id: string) => stats.body.sources.find((s: { sourceId: string }) => s.sourceId === id);
    expect(bySource(a.id)).toEqual({
      sourceId: a.id,
      name: 'affiliate-a',
      leads: { delivered: 2 },
      received: 2,
      rejections: {},
      pings: { pings: 0, bids: 0, posted: 0, winRate: null, averageBid: null },
      ...noMoney,
      sales: 4,
      revenue: '39.5000',
      margin: '39.5000',
      conversionRate: 0,
      returnRate: 0,
    });
    expect(bySource(b.id)).toMatchObject({ leads: { delivered: 1, routing: 1 }, received: 2, revenue: '19.7500' });
    expect(await stack.leadStatus(unsold)).toBe('routing');

    // Reaching back three days takes in the old sale, its lead and its price.
    const since = new Date(Date.now() - 72 * 3600_000).toISOString();
    const wider = await stack.admin('GET', `/stats?since=${encodeURIComponent(since)}`);
    expect(wider.body.revenue).toBe('159.2500');
    expect(wider.body.leads.received).toBe(5);
    expect(byNameIn(wider.body, listed.name)).toMatchObject({ deliveries: { accepted: 4 }, revenue: '137.5000' });
    expect(wider.body.sources.find((s: { sourceId: string }) => s.sourceId === a.id).revenue).toBe('139.5000');
    // Exact to the entry within an hour: the part of the hour before the first whole one is read from the
    // ledger, so a `since` a millisecond either side of the old sale takes it in or leaves it out.
    const at = async (ms: number) =>
      (
        await stack.admin(
          'GET',
          `/stats?since=${encodeURIComponent(new Date(twoDaysAgo.getTime() + ms).toISOString())}`,
        )
      ).body.revenue;
    expect([await at(-1), await at(0), await at(1)]).toEqual(['159.2500', '159.2500', '59.2500']);

    // A window with nothing in it.
    const future = await stack.admin(
      'GET',
      `/stats?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
    );
    expect(future.body).toMatchObject({ leads: { received: 0 }, ...noMoney, sources: [], partners: [] });
    expect(validStats(future.body)).toBe(true);
  });

  it('answer 422 for a `since` more than 400 days ago, and for one that is no date-time, listing the problem', async () => {
    const day = 24 * 3600_000;
    const stats = (since: string) => stack.admin('GET', `/stats?since=${encodeURIComponent(since)}`);
    const tooOld = await stats(new Date(Date.now() - 401 * day).toISOString());
    expect(tooOld.status).toBe(422);
    expect(tooOld.body.errors).toEqual([
      {
        field: 'since',
        message: 'must be at most 400 days ago; for longer periods use GET /v1/admin/reports, a window at a time',
      },
    ]);
    expect((await stats('last year')).body.errors).toEqual([
      { field: 'since', message: 'must be an ISO 8601 date-time with a zone, e.g. 2026-01-31T00:00:00Z' },
    ]);
    // 400 days less a minute: answered.
    const oldest = await stats(new Date(Date.now() - 400 * day + 60_000).toISOString());
    expect(oldest.status).toBe(200);
    expect(validStats(oldest.body)).toBe(true);
  });
});

const noMoney = {
  sales: 0,
  conversions: 0,
  returns: 0,
  reversals: 0,
  revenue: '0.0000',
  cost: '0.0000',
  margin: '0.0000',
  conversionRate: null,
  returnRate: null,
  reversalRate: null,
};

function byNameIn(body: { partners: { name: string }[] }, name: string) {
  return body.partners.find((p) => p.name === name);
}

const validStats = (() => {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  const id = 'https://leadrouter.test/openapi.json';
  ajv.addSchema({ ...buildOpenApiDocument(), $id: id });
  return ajv.compile({ $ref: `${id}#/components/schemas/Stats` });
})();
