import { randomBytes } from 'node:crypto';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { buildOpenApiDocument } from '../../services/ingest/src/openapi/document';
import { FakePartner, type ReceivedRequest } from '../support/partner';
import { ADMIN_TOKEN, sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

/**
 * README "What each party sees", party by party (docs/decisions/0015-what-each-party-sees.md):
 * a source sees its own leads, their statuses and its own terms — never a
 * partner's name, id, answer or price, nor a route; a partner never sees the
 * source's identity; the admin token sees everything. Every secret below is
 * a distinctive string, searched for in the serialised answers.
 */
describe('what each party sees', () => {
  const stack = new TestStack();
  const tag = randomBytes(4).toString('hex');
  /** Names and texts only the admin may see. */
  const names = {
    picky: `picky-buyer-${tag}`,
    guarded: `guarded-buyer-${tag}`,
    flaky: `flaky-buyer-${tag}`,
    buyer: `paying-buyer-${tag}`,
    route: `secret-route-${tag}`,
    unsoldRoute: `unsold-route-${tag}`,
    deadRoute: `dead-route-${tag}`,
  };
  const PICKY_REASON = `not in our footprint ${tag}`;
  /** A price no timestamp or id can contain by chance (no minute or second is 77). */
  const PRICE = 7777.77;
  const sourceName = `affiliate-${tag}`;

  let picky: FakePartner;
  let flaky: FakePartner;
  let buyer: FakePartner;
  let affiliate: FakePartner;
  let source: { id: string; apiKey: string; name: string };
  let buyerId = '';
  const partnerIds: string[] = [];
  const routeIds: string[] = [];
  /** The leads of this file, by the route they take: `fields.kind`. */
  const leads: Record<'waterfall' | 'unsold' | 'dead', string> = { waterfall: '', unsold: '', dead: '' };

  beforeAll(async () => {
    await stack.start();
    picky = await new FakePartner(() => ({ status: 422, body: { message: PICKY_REASON } })).start();
    flaky = await new FakePartner(() => ({ status: 503, body: { error: `overloaded ${tag}` } })).start();
    buyer = await new FakePartner(() => ({ status: 200, body: { ok: true, bid: PRICE } })).start();
    affiliate = await new FakePartner(() => ({ status: 204 })).start();
    source = await stack.createSource({ name: sourceName, postbackUrl: affiliate.url });

    const p = {
      picky: await stack.createPartner({ name: names.picky, url: picky.url, responseMap: { reason: 'message' } }),
      // A cloud metadata address is refused even where private destinations are allowed (tests): an SSRF refusal.
      guarded: await stack.createPartner({ name: names.guarded, url: 'http://169.254.169.254/latest/meta-data/' }),
      flaky: await stack.createPartner({ name: names.flaky, url: flaky.url, maxAttempts: 1 }),
      buyer: await stack.createPartner({ name: names.buyer, url: buyer.url, responseMap: { price: 'bid' } }),
    };
    partnerIds.push(...Object.values(p).map((x) => x.id));
    buyerId = p.buyer.id;
    const route = (name: string, kind: string, partners: { id: string }[]) =>
      stack.createRoute({
        name,
        priority: 10,
        filters: { sourceIds: [source.id], fields: [{ field: 'fields.kind', op: 'eq', value: kind }] },
        partners: partners.map((x) => ({ partnerId: x.id })),
        strategy: 'priority',
        maxDeliveries: 1,
      });
    for (const r of [
      // A waterfall: a rejection with the partner's reason, an SSRF refusal, a dead letter, then a sale.
      await route(names.route, 'waterfall', [p.picky, p.guarded, p.flaky, p.buyer]),
      await route(names.unsoldRoute, 'unsold', [p.picky]),
      await route(names.deadRoute, 'dead', [p.flaky]),
    ])
      routeIds.push(r.id);

    let n = 0;
    for (const kind of Object.keys(leads) as (keyof typeof leads)[]) {
      const res = await stack.request('POST', '/v1/leads', {
        key: source.apiKey,
        body: sampleLead({ phone: `+1 415 555 02${10 + n}`, email: `party${n++}@example.com`, fields: { kind } }),
      });
      expect(res.status).toBe(202);
      leads[kind] = res.body.id;
    }
    expect(await stack.finalStatus(leads.waterfall)).toBe('delivered');
    expect(await stack.finalStatus(leads.unsold)).toBe('unsold');
    expect(await stack.finalStatus(leads.dead)).toBe('dead_lettered');
  });
  afterAll(async () => {
    for (const server of [picky, flaky, buyer, affiliate]) await server?.stop();
    await stack.stop();
  });

  /** Everything a source must never see: partner names and ids, route names and ids, partner answers, prices, refusals. */
  const forSourceEyes = () => [
    ...Object.values(names),
    ...partnerIds,
    ...routeIds,
    PICKY_REASON,
    `overloaded ${tag}`,
    String(PRICE),
    '169.254',
    'metadata',
    'refused',
    'HTTP 422',
    'HTTP 503',
    'ALLOW_PRIVATE_DESTINATIONS',
    ...[picky, flaky, buyer].map((partner) => partner.url),
  ];
  const leaked = (text: string) => forSourceEyes().filter((secret) => text.includes(secret));

  /** The OpenAPI document's schema `name`: each party's answer is an instance of its own view's schema only. */
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  ajv.addSchema({ ...buildOpenApiDocument(), $id: 'https://leadrouter.test/openapi.json' });
  const documented = (name: string) =>
    ajv.compile({ $ref: `https://leadrouter.test/openapi.json#/components/schemas/${name}` });
  const views = { source: documented('LeadSourceView'), admin: documented('LeadView') };
  const viewsOf = (body: unknown) => Object.entries(views).flatMap(([party, valid]) => (valid(body) ? [party] : []));

  describe('a source, in its lead view', () => {
    it('sees its leads, their statuses and when, and nothing of partners, routes, answers, prices or refusals', async () => {
      for (const [kind, id] of Object.entries(leads)) {
        const res = await stack.request('GET', `/v1/leads/${id}`, { key: source.apiKey });
        expect(res.status).toBe(200);
        const text = JSON.stringify(res.body);
        expect({ kind, leaked: leaked(text) }).toEqual({ kind, leaked: [] });
        expect(Object.keys(res.body).sort()).toEqual([
          'createdAt',
          'currency',
          'events',
          'id',
          'lead',
          'payout',
          'personalDataErasedAt',
          'sourceId',
          'status',
        ]);
        for (const event of res.body.events) expect(Object.keys(event).sort()).toEqual(['at', 'status']);
        expect(res.body.lead.phone).toContain('*');
        expect({ kind, views: viewsOf(res.body) }).toEqual({ kind, views: ['source'] });
      }
      const waterfall = await stack.request('GET', `/v1/leads/${leads.waterfall}`, { key: source.apiKey });
      expect(waterfall.body.status).toBe('delivered');
      expect(waterfall.body.events.map((e: { status: string }) => e.status)).toEqual([
        'queued',
        'routing',
        'delivered',
      ]);
    });

    it('does not see another source’s lead at all', async () => {
      const stranger = await stack.createSource();
      const res = await stack.request('GET', `/v1/leads/${leads.waterfall}`, { key: stranger.apiKey });
      expect(res.status).toBe(404);
      expect(leaked(JSON.stringify(res.body))).toEqual([]);
    });

    it('while the admin token sees the partners, the route, the partner’s answer and the refusal', async () => {
      const res = await stack.request('GET', `/v1/leads/${leads.waterfall}`, { key: ADMIN_TOKEN });
      expect(res.status).toBe(200);
      const text = JSON.stringify(res.body);
      for (const secret of [
        names.picky,
        names.guarded,
        names.flaky,
        names.buyer,
        names.route,
        PICKY_REASON,
        '169.254.169.254',
      ]) {
        expect({ secret, shown: text.includes(secret) }).toEqual({ secret, shown: true });
      }
      expect(res.body.lead.phone).toBe('+14155550210');
      expect(viewsOf(res.body)).toEqual(['admin']);
      expect(
        res.body.routing.partners.map((p: { partner: string; decision: string }) => [p.partner, p.decision]),
      ).toEqual([
        [names.picky, 'rejected'],
        [names.guarded, 'rejected'],
        [names.flaky, 'dead_lettered'],
        [names.buyer, 'accepted'],
      ]);
    });
  });

  describe('a source, when a buyer returns its lead', () => {
    const RETURN_REASON = `disconnected number ${tag}`;
    const returnRoute = `return-route-${tag}`;
    let id = '';

    beforeAll(async () => {
      const route = await stack.createRoute({
        name: returnRoute,
        priority: 10,
        filters: { sourceIds: [source.id], fields: [{ field: 'fields.kind', op: 'eq', value: 'returned' }] },
        partners: [{ partnerId: buyerId }],
        strategy: 'priority',
        maxDeliveries: 1,
      });
      routeIds.push(route.id);
      const res = await stack.request('POST', '/v1/leads', {
        key: source.apiKey,
        body: sampleLead({
          phone: '+1 415 555 0230',
          email: 'party-returned@example.com',
          fields: { kind: 'returned' },
        }),
      });
      id = res.body.id;
      expect(await stack.finalStatus(id)).toBe('delivered');
      // An operator files the buyer's return (approved at once), with the reason the buyer gave.
      const filed = await stack.admin('POST', `/leads/${id}/returns`, { partnerId: buyerId, reason: RETURN_REASON });
      expect(filed.body).toMatchObject({ status: 'approved' });
    });

    it('is told why in its lead view — the return’s reason — and nothing of the buyer', async () => {
      const res = await stack.request('GET', `/v1/leads/${id}`, { key: source.apiKey });
      expect(res.body).toMatchObject({ status: 'returned', reason: RETURN_REASON });
      expect(res.body.events.at(-1)).toEqual({ at: expect.any(String), status: 'returned' });
      expect({
        leaked: leaked(JSON.stringify(res.body)),
        route: JSON.stringify(res.body).includes(returnRoute),
      }).toEqual({
        leaked: [],
        route: false,
      });
      expect(viewsOf(res.body)).toEqual(['source']);
      // The same reason as its postback's.
      const postback = await waitFor(
        () =>
          affiliate.requests.find(
            (r) =>
              (r.json as { id?: string; status?: string }).id === id &&
              (r.json as { status?: string }).status === 'returned',
          ),
        { what: 'the returned postback' },
      );
      expect(postback.json).toMatchObject({ status: 'returned', reason: RETURN_REASON });
      expect(leaked(postback.body)).toEqual([]);
    });

    it('while the admin token sees the buyer, and the source’s view of another status has no reason', async () => {
      const admin = await stack.request('GET', `/v1/leads/${id}`, { key: ADMIN_TOKEN });
      expect(viewsOf(admin.body)).toEqual(['admin']);
      expect(JSON.stringify(admin.body)).toContain(names.buyer);
      const delivered = await stack.request('GET', `/v1/leads/${leads.waterfall}`, { key: source.apiKey });
      expect(delivered.body).not.toHaveProperty('reason');
    });
  });

  describe('a source, in its postbacks', () => {
    const postbackOf = async (id: string) =>
      waitFor(() => affiliate.requests.find((r) => (r.json as { id?: string } | undefined)?.id === id), {
        what: `the postback of lead ${id}`,
      });

    it('is told the lead, its status and when — in its own terms, with no partner, answer or price', async () => {
      const postbackSchema = documented('Postback');

      for (const [kind, status] of [
        ['waterfall', 'delivered'],
        ['unsold', 'unsold'],
        ['dead', 'dead_lettered'],
      ] as const) {
        const postback = await postbackOf(leads[kind]);
        expect({ kind, leaked: leaked(postback.body) }).toEqual({ kind, leaked: [] });
        const event = await stack.db.leadEvent.findFirstOrThrow({ where: { leadId: leads[kind], status } });
        expect(postback.json).toEqual({ id: leads[kind], status, at: event.at.toISOString() });
        expect({ kind, errors: postbackSchema(postback.json) ? null : postbackSchema.errors }).toEqual({
          kind,
          errors: null,
        });
        expect(leaked(JSON.stringify(postback.headers))).toEqual([]);
      }
    });
  });

  describe('a source, when its lead is a duplicate', () => {
    let first: { id: string; apiKey: string };
    let second: { id: string; apiKey: string };
    let firstLead: string;
    const phone = '+1 415 555 0299';

    beforeAll(async () => {
      first = await stack.createSource({ duplicateWindowHours: 24 });
      second = await stack.createSource({ duplicateWindowHours: 24 });
      const res = await stack.request('POST', '/v1/leads', {
        key: first.apiKey,
        body: sampleLead({ phone, email: 'dup-owner@example.com', geo: 'CA' }),
      });
      expect(res.status).toBe(202);
      firstLead = res.body.id;
    });

    it('of its own lead is told that lead’s id', async () => {
      const res = await stack.request('POST', '/v1/leads', {
        key: first.apiKey,
        body: sampleLead({ phone, email: 'dup-again@example.com', geo: 'CA' }),
      });
      expect({ status: res.status, body: res.body }).toEqual({
        status: 409,
        body: { status: 'duplicate', id: firstLead },
      });
    });

    it('of another source’s lead is not told its id, by phone or by email', async () => {
      for (const body of [
        sampleLead({ phone, email: 'someone-else@example.com', geo: 'CA' }),
        sampleLead({ phone: '+1 415 555 0298', email: 'DUP-OWNER@example.com', geo: 'CA' }),
      ]) {
        const res = await stack.request('POST', '/v1/leads', { key: second.apiKey, body });
        expect({ status: res.status, body: res.body }).toEqual({ status: 409, body: { status: 'duplicate' } });
      }
    });

    it('in a batch: its own lead’s id, never another source’s', async () => {
      const own = await stack.request('POST', '/v1/leads/batch', {
        key: first.apiKey,
        body: { leads: [sampleLead({ phone, email: 'batch-own@example.com', geo: 'CA' })] },
      });
      expect(own.body).toEqual({ results: [{ status: 'duplicate', id: firstLead }] });
      const other = await stack.request('POST', '/v1/leads/batch', {
        key: second.apiKey,
        body: {
          leads: [
            sampleLead({ phone, email: 'batch-other@example.com', geo: 'CA' }),
            sampleLead({ phone: '+1 415 555 0297', email: 'batch-new@example.com', geo: 'CA' }),
            sampleLead({ phone: '+1 415 555 0297', email: 'batch-new-again@example.com', geo: 'CA' }),
          ],
        },
      });
      expect(other.status).toBe(207);
      const [dupOfOther, accepted, dupOfOwn] = other.body.results;
      expect(dupOfOther).toEqual({ status: 'duplicate' });
      expect(accepted).toEqual({ status: 'accepted', id: expect.any(String) });
      expect(dupOfOwn).toEqual({ status: 'duplicate', id: accepted.id });
    });

    it('while the operators’ trace keeps the lead it repeats', async () => {
      // Two single posts and one lead of a batch repeated the first source's lead (traces are written after the answer).
      await waitFor(
        async () =>
          (await stack.db.ingestRejection.count({
            where: { sourceId: second.id, reason: 'duplicate', leadId: firstLead },
          })) === 3,
        { what: 'three duplicate traces naming the first source’s lead' },
      );
    });
  });

  describe('a partner', () => {
    it('receiving a lead is never told the source’s id or name; it gets the lead’s own traffic channel', async () => {
      const received: ReceivedRequest[] = [...picky.requests, ...flaky.requests, ...buyer.requests];
      expect(received.length).toBeGreaterThanOrEqual(4);
      for (const request of received) {
        const seen = `${request.body}\n${JSON.stringify(request.headers)}\n${request.path}`;
        expect({ id: seen.includes(source.id), name: seen.includes(sourceName) }).toEqual({ id: false, name: false });
      }
      const sold = buyer.requests.find((r) => r.headers['x-lead-id'] === leads.waterfall)!;
      expect(Object.keys(sold.json as object).sort()).toEqual([
        'email',
        'fields',
        'geo',
        'id',
        'name',
        'phone',
        'source',
      ]);
      // The lead's `source` is the channel the affiliate labelled it with (ADR 0015), not the affiliate.
      expect((sold.json as { source: string }).source).toBe('Facebook');
    });
  });
});
