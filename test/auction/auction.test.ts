import { FakePartner } from '../support/partner';
import { TestStack } from '../support/stack';

// Ping/post (SPEC "Ping/post", ADR 0032): the admin API's partner `ping` and auction routes.

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
});
