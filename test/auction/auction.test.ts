import { FakePartner, type PartnerReply, type ReceivedRequest } from '../support/partner';
import { ADMIN_TOKEN, sampleLead, TestStack } from '../support/stack';

// Ping/post (README "Ping/post", ADR 0032): the admin API's partner `ping` and auction routes; auctions in the
// worker against loopback buyers that bid, bid late (hang), fail, refuse the post, or bid their fixed price.

/** A buyer answering its pings (path /ping) with `ping` and its posts with `post`. */
const buyerOf = (ping: () => PartnerReply, post: () => PartnerReply = () => ({ status: 200, body: { ok: true } })) =>
  new FakePartner((req) => (req.path.endsWith('/ping') ? ping() : post())).start();
const pingsOf = (b: FakePartner) => b.requests.filter((r) => r.path.endsWith('/ping'));
const postsOf = (b: FakePartner) => b.requests.filter((r) => !r.path.endsWith('/ping'));
const hasContact = (r: ReceivedRequest) => /John|4155550|example\.com/.test(r.body);

describe('ping/post', () => {
  const stack = new TestStack({ captureLogs: true });
  let buyer: FakePartner;

  beforeAll(async () => {
    await stack.start();
    buyer = await new FakePartner(() => ({ status: 200, body: { bid: 7.5 } })).start();
  });
  afterAll(async () => {
    await buyer.stop();
    await stack.stop();
  });

  describe('the admin API', () => {
    it('takes a partner’s ping, shows it with its defaults, and replaces or removes it', async () => {
      const created = await stack.admin('POST', '/partners', {
        name: 'pinged-buyer',
        url: buyer.url,
        ping: { url: `${buyer.url}/ping`, fieldMap: { zip: 'fields.zip', state: 'geo' }, referencePath: 'ref' },
      });
      expect(created.status).toBe(201);
      expect(created.body.ping).toEqual({
        url: `${buyer.url}/ping`,
        method: 'POST',
        headers: {},
        fieldMap: { zip: 'fields.zip', state: 'geo' },
        timeoutMs: 500,
        bidPath: 'bid',
        referencePath: 'ref',
      });
      const changed = await stack.admin('PATCH', `/partners/${created.body.id}`, {
        ping: { url: `${buyer.url}/p2`, timeoutMs: 300, bidPath: 'offer.amount' },
      });
      expect(changed.body.ping).toMatchObject({ url: `${buyer.url}/p2`, timeoutMs: 300, bidPath: 'offer.amount' });
      expect(changed.body.ping.referencePath).toBeUndefined();
      const removed = await stack.admin('PATCH', `/partners/${created.body.id}`, { ping: null });
      expect(removed.body.ping).toBeNull();
      expect((await stack.admin('GET', `/partners/${created.body.id}`)).body.ping).toBeNull();
    });

    it('refuses a ping naming contact data, with reserved headers or a bad URL: 422 by field, all at once', async () => {
      const res = await stack.admin('POST', '/partners', {
        name: 'nosy-buyer',
        url: buyer.url,
        ping: {
          url: 'https://user:pw@buyer.example/ping',
          headers: { Host: 'x' },
          fieldMap: { zip: 'fields.zip', first: 'name', tel: 'phone', mail: 'email' },
          timeoutMs: 10,
        },
      });
      expect(res.status).toBe(422);
      const fields = (res.body.errors as { field: string }[]).map((e) => e.field).sort();
      expect(fields).toEqual([
        '/ping/fieldMap/first',
        '/ping/fieldMap/mail',
        '/ping/fieldMap/tel',
        '/ping/headers/Host',
        '/ping/timeoutMs',
        '/ping/url',
      ]);
      expect(await stack.db.partner.count({ where: { name: 'nosy-buyer' } })).toBe(0);
    });

    it('takes auction routes with a deadline and floor (defaults filled in), and refuses an auction elsewhere', async () => {
      const partner = await stack.createPartner({ url: buyer.url, price: 4 });
      const route = await stack.admin('POST', '/routes', {
        name: 'auction-route',
        priority: 0,
        strategy: 'auction',
        auction: { timeoutMs: 600, floor: '2.25' },
        partners: [{ partnerId: partner.id }],
      });
      expect(route.status).toBe(201);
      expect(route.body).toMatchObject({ strategy: 'auction', auction: { timeoutMs: 600, floor: 2.25 } });
      const plain = await stack.admin('POST', '/routes', {
        name: 'auction-defaults',
        priority: 0,
        strategy: 'auction',
        partners: [{ partnerId: partner.id }],
      });
      expect(plain.body.auction).toEqual({ timeoutMs: 800, floor: 0 });
      const priority = await stack.createRoute({ partners: [{ partnerId: partner.id }] });
      expect((await stack.admin('GET', `/routes/${priority.id}`)).body.auction).toBeNull();

      const bad = await stack.admin('POST', '/routes', {
        name: 'not-an-auction',
        priority: 0,
        strategy: 'priority',
        auction: { timeoutMs: 600, floor: '1.23456' },
        partners: [{ partnerId: partner.id }],
      });
      expect(bad.status).toBe(422);
      expect((bad.body.errors as { field: string }[]).map((e) => e.field).sort()).toEqual([
        '/auction',
        '/auction/floor',
      ]);
      const tooShort = await stack.admin('PATCH', `/routes/${route.body.id}`, { auction: { timeoutMs: 5 } });
      expect(tooShort.status).toBe(422);
      await stack.admin('DELETE', `/routes/${route.body.id}`);
      await stack.admin('DELETE', `/routes/${plain.body.id}`);
      await stack.admin('DELETE', `/routes/${priority.id}`);
    });
  });

  describe('an auction route', () => {
    let bidder: FakePartner;
    let late: FakePartner;
    let failing: FakePartner;
    let refuser: FakePartner;
    let fixed: FakePartner;
    let source: { id: string; apiKey: string };
    const ids: Record<string, string> = {};
    let route: { id: string };

    beforeAll(async () => {
      bidder = await buyerOf(() => ({ status: 200, body: { bid: '12.5', ref: 'BID-1' } }));
      late = await buyerOf(() => ({ status: 200, body: { bid: 99 }, delayMs: 5000 }));
      failing = await buyerOf(() => ({ status: 500, body: { bid: 50 } }));
      refuser = await buyerOf(
        () => ({ status: 200, body: { bid: 20, ref: 'R-20' } }),
        () => ({ status: 422, body: { error: 'duplicate' } }),
      );
      fixed = await buyerOf(() => ({ status: 500 }));
      source = await stack.createSource({ payout: { model: 'revshare', percent: 50 } });
      const ping = (b: FakePartner, extra: Record<string, unknown> = {}) => ({
        url: `${b.url}/ping`,
        fieldMap: { zip: 'fields.zip', state: 'geo' },
        referencePath: 'ref',
        ...extra,
      });
      ids.bidder = (
        await stack.createPartner({
          url: bidder.url,
          fieldMap: { phone: 'phone', zip: 'fields.zip', ping_id: 'ping.reference' },
          ping: ping(bidder),
        })
      ).id;
      ids.late = (await stack.createPartner({ url: late.url, ping: ping(late, { timeoutMs: 5000 }) })).id;
      ids.failing = (await stack.createPartner({ url: failing.url, ping: ping(failing) })).id;
      ids.refuser = (await stack.createPartner({ url: refuser.url, ping: ping(refuser) })).id;
      ids.fixed = (await stack.createPartner({ url: fixed.url, price: 10 })).id;
      route = await stack.createRoute({
        name: 'auction',
        priority: 100,
        strategy: 'auction',
        auction: { timeoutMs: 400, floor: 5 },
        filters: { sourceIds: [source.id] },
        partners: ['late', 'failing', 'fixed', 'bidder', 'refuser'].map((k) => ({ partnerId: ids[k] })),
      });
    });
    afterAll(async () => {
      await stack.admin('DELETE', `/routes/${route.id}`);
      for (const b of [bidder, late, failing, refuser, fixed]) await b.stop();
    });

    it('pings every candidate in parallel without contact data, posts to the highest bid and falls through on a refusal; the winning bid is the sale', async () => {
      const posted = await stack.request('POST', '/v1/leads', { key: source.apiKey, body: sampleLead() });
      expect(posted.status).toBe(202);
      const id = posted.body.id as string;
      expect(await stack.finalStatus(id)).toBe('delivered');

      // Pinged once each, in parallel, with no contact data; the fixed-price buyer is not pinged.
      for (const b of [bidder, late, failing, refuser]) {
        expect(pingsOf(b)).toHaveLength(1);
        expect(hasContact(pingsOf(b)[0]!)).toBe(false);
        expect(pingsOf(b)[0]!.json).toEqual({ zip: '94107', state: 'US' });
        expect(pingsOf(b)[0]!.headers['x-ping-id']).toBe(id);
      }
      expect(pingsOf(fixed)).toHaveLength(0);
      // The highest bid (20) refused the post; the next (12.5) took it with its ping reference.
      expect(postsOf(refuser)).toHaveLength(1);
      expect(postsOf(refuser)[0]!.headers['x-ping-reference']).toBe('R-20');
      expect(postsOf(bidder)).toHaveLength(1);
      const post = postsOf(bidder)[0]!;
      expect(post.headers['x-ping-reference']).toBe('BID-1');
      expect(post.json).toEqual({ phone: '+14155550100', zip: '94107', ping_id: 'BID-1' });
      expect(postsOf(fixed)).toHaveLength(0);
      expect(postsOf(late)).toHaveLength(0);

      const view = (await stack.request('GET', `/v1/leads/${id}`, { key: ADMIN_TOKEN })).body;
      const pings = Object.fromEntries(
        (view.routing.pings as { partner: string; outcome: string; bid?: number; durationMs: number }[]).map((p) => [
          p.partner,
          p,
        ]),
      );
      const names = Object.fromEntries(
        await Promise.all(
          Object.entries(ids).map(async ([k, pid]) => [k, (await stack.admin('GET', `/partners/${pid}`)).body.name]),
        ),
      );
      expect(pings[names.bidder]).toMatchObject({ outcome: 'bid', bid: 12.5, reference: 'BID-1', pinged: true });
      expect(pings[names.refuser]).toMatchObject({ outcome: 'bid', bid: 20, pinged: true });
      expect(pings[names.fixed]).toMatchObject({ outcome: 'bid', bid: 10, pinged: false });
      expect(pings[names.failing]).toMatchObject({ outcome: 'error', reason: 'HTTP 500' });
      // The hanging buyer is cut at the auction's deadline (400 ms), not its own 5 s.
      expect(pings[names.late]).toMatchObject({ outcome: 'timeout' });
      expect(pings[names.late]!.durationMs).toBeLessThan(1500);
      const fates = Object.fromEntries(
        (view.routing.partners as { partner: string; decision: string; reason?: string }[]).map((p) => [p.partner, p]),
      );
      expect(fates[names.refuser]).toMatchObject({ decision: 'rejected' });
      expect(fates[names.bidder]).toMatchObject({ decision: 'accepted' });
      expect(fates[names.late]).toMatchObject({ decision: 'skipped', reason: expect.stringMatching(/deadline/) });
      expect(fates[names.failing]).toMatchObject({ decision: 'skipped', reason: expect.stringMatching(/failed/) });
      // The winning bid is the sale's price; the source's revshare is half of it.
      const entries = (view.money.entries as { party: string; kind: string; amount: number }[]).map(
        (e) => `${e.party} ${e.kind} ${e.amount}`,
      );
      expect(entries.sort()).toEqual(['partner sale 12.5', 'source sale 6.25']);
    });

    it('a lead nobody bids on at or above the floor is unmatched', async () => {
      bidder.respondWith((req) => (req.path.endsWith('/ping') ? { status: 200, body: { bid: 1 } } : { status: 200 }));
      refuser.respondWith((req) => (req.path.endsWith('/ping') ? { status: 204 } : { status: 200 }));
      await stack.admin('PATCH', `/partners/${ids.fixed}`, { price: 4 });
      const posted = await stack.request('POST', '/v1/leads', {
        key: source.apiKey,
        body: sampleLead({ phone: '+1 415 555 0111', email: 'other@example.com' }),
      });
      const id = posted.body.id as string;
      expect(await stack.finalStatus(id)).toBe('unmatched');
      const view = (await stack.request('GET', `/v1/leads/${id}`, { key: ADMIN_TOKEN })).body;
      expect(view.routing.reason).toBe('no bid in the auction');
      expect(view.routing.pings).toHaveLength(5);
    });
  });
});
