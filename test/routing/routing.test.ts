import { FakePartner } from '../support/partner';
import { ADMIN_TOKEN, sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

let n = 0;
const lead = (overrides: Record<string, unknown> = {}) => {
  n++;
  return sampleLead({ phone: `+1 415 555 ${String(2000 + n)}`, email: `routing${n}@example.com`, ...overrides });
};

describe('routing through real partners', () => {
  const stack = new TestStack();
  const partners: FakePartner[] = [];
  let key: string;

  beforeAll(async () => {
    await stack.start();
    key = (await stack.createSource()).apiKey;
  });
  afterAll(async () => {
    await Promise.all(partners.map((p) => p.stop()));
    await stack.stop();
  });
  afterEach(async () => {
    // Each test sets up its own routing.
    await stack.db.route.updateMany({ data: { active: false } });
  });

  /** A loopback partner and its partner record. */
  async function partner(fake: FakePartner, config: Record<string, unknown> = {}) {
    partners.push(await fake.start());
    const record = await stack.createPartner({ url: fake.url, backoff: { delayMs: 10, maxDelayMs: 20 }, ...config });
    return { fake, id: record.id, name: record.name };
  }
  const accepting = () => new FakePartner();
  const rejecting = (status = 400, body: unknown = { accepted: false }) => new FakePartner(() => ({ status, body }));

  async function post(body = lead()): Promise<string> {
    const res = await stack.request('POST', '/v1/leads', { key, body });
    expect(res.status).toBe(202);
    return res.body.id as string;
  }
  async function settled(id: string) {
    await stack.finalStatus(id);
    return (await stack.request('GET', `/v1/leads/${id}`, { key: ADMIN_TOKEN })).body as {
      status: string;
      routing: { route: string; partners: { partner: string; decision: string; reason?: string }[] };
      deliveries: { partner: string; outcome: string }[];
    };
  }

  it('waterfalls: a rejection passes the lead to the next partner, and the history says why', async () => {
    const a = await partner(rejecting(400, { status: 'rejected', why: 'zip not served' }), {
      responseMap: { reason: 'why' },
    });
    const b = await partner(accepting());
    const c = await partner(accepting());
    await stack.createRoute({ partners: [{ partnerId: a.id }, { partnerId: b.id }, { partnerId: c.id }] });

    const view = await settled(await post());
    expect(view.status).toBe('delivered');
    expect(a.fake.requests).toHaveLength(1);
    expect(b.fake.requests).toHaveLength(1);
    expect(c.fake.requests).toHaveLength(0);
    expect(view.routing.partners).toEqual([
      expect.objectContaining({ partner: a.name, decision: 'rejected', reason: 'HTTP 400: zip not served' }),
      expect.objectContaining({ partner: b.name, decision: 'accepted' }),
      expect.objectContaining({ partner: c.name, decision: 'not_offered' }),
    ]);
  });

  it('ends unsold when every eligible partner rejects', async () => {
    const a = await partner(rejecting(422));
    const b = await partner(new FakePartner(() => ({ status: 200, body: { result: 'duplicate' } })), {
      acceptWhen: { path: 'result', equals: 'sold' },
    });
    await stack.createRoute({ partners: [{ partnerId: a.id }, { partnerId: b.id }] });
    const view = await settled(await post());
    expect(view.status).toBe('unsold');
    expect(view.routing.partners.map((p) => p.decision)).toEqual(['rejected', 'rejected']);
    expect(view.routing.partners[1]!.reason).toContain('result is "duplicate", not "sold"');
  });

  it('ends unmatched when every partner is skipped, with each reason', async () => {
    const inactive = await partner(accepting(), { active: false });
    const filtered = await partner(accepting(), { filters: { geo: ['CA'] } });
    const closed = await partner(accepting(), { schedule: { timezone: 'UTC', days: {} } });
    await stack.createRoute({
      partners: [{ partnerId: inactive.id }, { partnerId: filtered.id }, { partnerId: closed.id }],
    });
    const view = await settled(await post());
    expect(view.status).toBe('unmatched');
    expect(view.routing.partners).toEqual([
      expect.objectContaining({ partner: inactive.name, decision: 'skipped', reason: 'partner is inactive' }),
      expect.objectContaining({
        partner: filtered.name,
        decision: 'skipped',
        reason: expect.stringContaining('geo US not in CA'),
      }),
      expect.objectContaining({
        partner: closed.name,
        decision: 'skipped',
        reason: expect.stringContaining('outside its schedule'),
      }),
    ]);
    for (const p of [inactive, filtered, closed]) expect(p.fake.requests).toHaveLength(0);
  });

  it('holds a daily cap and gives a slot back when the partner rejects', async () => {
    let reject = true;
    const capped = await partner(new FakePartner(() => (reject ? { status: 400 } : { status: 200 })), {
      caps: { daily: 2 },
    });
    await stack.createRoute({ partners: [{ partnerId: capped.id }] });

    expect((await settled(await post())).status).toBe('unsold'); // rejected: its slot is given back
    reject = false;
    expect((await settled(await post())).status).toBe('delivered');
    expect((await settled(await post())).status).toBe('delivered');
    const full = await settled(await post());
    expect(full.status).toBe('unmatched');
    expect(full.routing.partners[0]).toMatchObject({ decision: 'skipped', reason: 'daily cap of 2 reached' });
    expect(capped.fake.requests).toHaveLength(3);
  });

  it('rotates round-robin across leads', async () => {
    const ps = [await partner(accepting()), await partner(accepting()), await partner(accepting())];
    await stack.createRoute({ strategy: 'round_robin', partners: ps.map((p) => ({ partnerId: p.id })) });
    for (let i = 0; i < 6; i++) await settled(await post());
    expect(ps.map((p) => p.fake.requests.length)).toEqual([2, 2, 2]);
  });

  it('shares leads by weight', async () => {
    const heavy = await partner(accepting());
    const light = await partner(accepting());
    await stack.createRoute({
      strategy: 'weighted',
      partners: [
        { partnerId: heavy.id, weight: 3 },
        { partnerId: light.id, weight: 1 },
      ],
    });
    const ids = await Promise.all(Array.from({ length: 120 }, () => post()));
    await waitFor(
      async () => (await stack.db.lead.count({ where: { id: { in: ids }, status: 'delivered' } })) === 120,
      {
        timeoutMs: 30_000,
        what: '120 deliveries',
      },
    );
    // Each lead went to exactly one of them. Counted by lead, not by request: on a loaded machine an attempt
    // may time out and be sent again with the same Idempotency-Key (at-least-once, as the README says).
    const leadsAt = (p: { fake: FakePartner }) => new Set(p.fake.requests.map((r) => r.headers['x-lead-id']));
    const [toHeavy, toLight] = [leadsAt(heavy), leadsAt(light)];
    expect(new Set([...toHeavy, ...toLight]).size).toBe(120);
    expect(toHeavy.size + toLight.size).toBe(120);
    const share = toHeavy.size / 120;
    expect(share).toBeGreaterThan(0.6);
    expect(share).toBeLessThan(0.9);
  });

  it('sells a shared lead to up to maxDeliveries accepting partners', async () => {
    const a = await partner(accepting());
    const b = await partner(rejecting());
    const c = await partner(accepting());
    const d = await partner(accepting());
    await stack.createRoute({ maxDeliveries: 2, partners: [a, b, c, d].map((p) => ({ partnerId: p.id })) });
    const view = await settled(await post());
    expect(view.status).toBe('delivered');
    expect([a, b, c, d].map((p) => p.fake.requests.length)).toEqual([1, 1, 1, 0]);
    expect(
      view.deliveries
        .filter((x) => x.outcome === 'accepted')
        .map((x) => x.partner)
        .sort(),
    ).toEqual([a.name, c.name].sort());
  });

  it('applies a rule change to the very next lead', async () => {
    const first = await partner(accepting());
    const second = await partner(accepting());
    const route = await stack.createRoute({ partners: [{ partnerId: first.id }] });
    await settled(await post());
    const res = await stack.admin('PATCH', `/routes/${route.id}`, { partners: [{ partnerId: second.id }] });
    expect(res.status).toBe(200);
    await settled(await post());
    expect([first.fake.requests.length, second.fake.requests.length]).toEqual([1, 1]);
  });

  it('takes the highest-priority matching route, honouring route filters', async () => {
    const us = await partner(accepting());
    const fallback = await partner(accepting());
    await stack.createRoute({ priority: 1, partners: [{ partnerId: fallback.id }] });
    await stack.createRoute({
      priority: 10,
      filters: { geo: ['US'], fields: [{ field: 'fields.age', op: 'gte', value: 21 }] },
      partners: [{ partnerId: us.id }],
    });
    await settled(await post(lead({ fields: { age: 42 } })));
    await settled(await post(lead({ fields: { age: 18 } })));
    await settled(await post(lead({ geo: 'CA', phone: '+1 604 555 0199' })));
    expect([us.fake.requests.length, fallback.fake.requests.length]).toEqual([1, 2]);
  });

  it('records the price and reference from the partner’s answer', async () => {
    const p = await partner(
      new FakePartner(() => ({ status: 200, body: { ok: true, bid: '12.50', ref: 'ACME-77' } })),
      {
        price: 3,
        responseMap: { price: 'bid', reference: 'ref' },
      },
    );
    await stack.createRoute({ partners: [{ partnerId: p.id }] });
    const id = await post();
    await settled(id);
    const delivery = await stack.db.delivery.findFirstOrThrow({ where: { leadId: id } });
    expect(Number(delivery.price)).toBe(12.5);
    expect(delivery.reference).toBe('ACME-77');
  });

  it('tests a partner on demand without recording anything', async () => {
    const p = await partner(new FakePartner(() => ({ status: 200, body: { status: 'sold', bid: 7 } })), {
      fieldMap: { first: 'name', tel: 'phone' },
      headers: { 'x-api-key': 'partner-secret-key' },
      acceptWhen: { path: 'status', equals: 'sold' },
      responseMap: { price: 'bid' },
    });
    const leadsBefore = await stack.db.lead.count();
    const res = await stack.admin('POST', `/partners/${p.id}/test`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      outcome: 'accepted',
      httpStatus: 200,
      answer: { price: 7 },
      request: { method: 'POST', url: p.fake.url, body: { first: 'Test Lead', tel: '+12025550143' } },
    });
    expect(res.body.request.headers['x-api-key']).toBe('[hidden]');
    expect(p.fake.requests).toHaveLength(1);
    expect(p.fake.requests[0]!.headers['x-leadrouter-test']).toBe('true');
    expect(p.fake.requests[0]!.headers['x-api-key']).toBe('partner-secret-key');
    expect(await stack.db.lead.count()).toBe(leadsBefore);
    expect(await stack.db.delivery.count({ where: { partnerId: p.id } })).toBe(0);

    const custom = await stack.admin('POST', `/partners/${p.id}/test`, {
      lead: { name: 'Ann', phone: '+44 20 7946 0958' },
    });
    expect(custom.body.request.body).toEqual({ first: 'Ann', tel: '+442079460958' });
    const bad = await stack.admin('POST', `/partners/${p.id}/test`, { lead: { name: 'Ann' } });
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0].field).toBe('/lead/phone');

    const down = await partner(new FakePartner(() => ({ status: 503 })));
    const failing = await stack.admin('POST', `/partners/${down.id}/test`);
    expect(failing.body).toMatchObject({ outcome: 'retry', httpStatus: 503, note: expect.stringContaining('retried') });
  });
});
