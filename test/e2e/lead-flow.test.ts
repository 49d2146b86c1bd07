import { FakePartner } from '../support/partner';
import { sampleLead, TestStack } from '../support/stack';

describe('a lead from POST /v1/leads to a partner', () => {
  const stack = new TestStack();
  let partner: FakePartner;
  let source: { id: string; apiKey: string };

  beforeAll(async () => {
    await stack.start();
    source = await stack.createSource();
  });
  afterAll(() => stack.stop());
  afterEach(async () => {
    await partner?.stop();
    // Each test sets up its own routing: deactivate what the previous one left.
    await stack.db.route.updateMany({ data: { active: false } });
  });

  async function routeTo(p: FakePartner, extra: Record<string, unknown> = {}) {
    const created = await stack.createPartner({ url: p.url, backoff: { delayMs: 20, maxDelayMs: 100 }, ...extra });
    await stack.createRoute({ priority: 10, partners: [{ partnerId: created.id }], strategy: 'priority' });
    return created;
  }

  it('is accepted, delivered with its headers, and its history is complete', async () => {
    partner = await new FakePartner().start();
    const p = await routeTo(partner, {
      fieldMap: { first_name: 'name', phone_number: 'phone', zip: 'fields.zip' },
      headers: { 'x-partner-key': 'abc' },
    });

    const res = await stack.request('POST', '/v1/leads', { key: source.apiKey, body: sampleLead() });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ status: 'accepted', id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const id: string = res.body.id;

    expect(await stack.finalStatus(id)).toBe('delivered');
    expect(partner.requests).toHaveLength(1);
    const sent = partner.requests[0]!;
    expect(sent.method).toBe('POST');
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.headers['x-lead-id']).toBe(id);
    expect(sent.headers['x-partner-key']).toBe('abc');
    expect(sent.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(sent.json).toEqual({ first_name: 'John Doe', phone_number: '+14155550100', zip: '94107' });

    const view = await stack.request('GET', `/v1/leads/${id}`, { key: source.apiKey });
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({
      id,
      status: 'delivered',
      lead: { name: 'John Doe', geo: 'US', source: 'Facebook', fields: { zip: '94107', age: 42 } },
    });
    expect(view.body.lead.phone).not.toBe('+14155550100'); // masked for the source
    expect(view.body.events.map((e: { status: string }) => e.status)).toEqual(['queued', 'routing', 'delivered']);
    // The source never sees its buyer (README "What each party sees"); the admin token does.
    expect(view.body.events[2].partner).toBeUndefined();
    expect(view.body.deliveries).toBeUndefined();

    const asAdmin = await stack.request('GET', `/v1/leads/${id}`, { key: stack.ingestConfig.ADMIN_TOKEN });
    expect(asAdmin.body.lead.phone).toBe('+14155550100');
    expect(asAdmin.body.events[2].partner).toBe(p.name);
    expect(asAdmin.body.deliveries).toEqual([
      expect.objectContaining({
        partner: p.name,
        attempt: 1,
        outcome: 'accepted',
        httpStatus: 200,
        durationMs: expect.any(Number),
      }),
    ]);
  });

  it('retries a partner answering 500 twice and delivers on the third attempt, same Idempotency-Key each time', async () => {
    partner = FakePartner.sequence({ status: 500 }, { status: 503 }, { status: 200, body: { ok: true } });
    await partner.start();
    await routeTo(partner);

    const res = await stack.request('POST', '/v1/leads', {
      key: source.apiKey,
      body: sampleLead({ phone: '+1 415 555 0101' }),
    });
    expect(res.status).toBe(202);
    expect(await stack.finalStatus(res.body.id)).toBe('delivered');

    expect(partner.requests).toHaveLength(3);
    const keys = new Set(partner.requests.map((r) => r.headers['idempotency-key']));
    expect(keys.size).toBe(1);
    const view = await stack.request('GET', `/v1/leads/${res.body.id}`, { key: stack.ingestConfig.ADMIN_TOKEN });
    expect(
      view.body.deliveries.map((d: { attempt: number; outcome: string; httpStatus: number }) => [
        d.attempt,
        d.outcome,
        d.httpStatus,
      ]),
    ).toEqual([
      [1, 'retry', 500],
      [2, 'retry', 503],
      [3, 'accepted', 200],
    ]);
  });

  it('dead-letters a delivery that exhausts its attempts', async () => {
    partner = FakePartner.sequence({ status: 502 });
    await partner.start();
    await routeTo(partner, { maxAttempts: 2 });

    const res = await stack.request('POST', '/v1/leads', {
      key: source.apiKey,
      body: sampleLead({ phone: '+1 415 555 0102' }),
    });
    expect(await stack.finalStatus(res.body.id)).toBe('dead_lettered');
    expect(partner.requests).toHaveLength(2);
  });

  it('marks a lead that no route matches as unmatched, without calling anyone', async () => {
    partner = await new FakePartner().start();
    await routeTo(partner);
    await stack.db.route.updateMany({ data: { filters: { geo: ['CA'] } } });

    const res = await stack.request('POST', '/v1/leads', {
      key: source.apiKey,
      body: sampleLead({ phone: '+1 415 555 0103' }),
    });
    expect(res.status).toBe(202);
    expect(await stack.finalStatus(res.body.id)).toBe('unmatched');
    expect(partner.requests).toHaveLength(0);
  });

  it('rejects an invalid lead with 422 listing every problem, and records and enqueues nothing', async () => {
    const before = await stack.db.lead.count();
    const res = await stack.request('POST', '/v1/leads', {
      key: source.apiKey,
      body: { name: '', phone: 'not a phone', email: 'nope', geo: 'usa', colour: 'blue' },
    });
    expect(res.status).toBe(422);
    expect(res.body.status).toBe('rejected');
    const fields = res.body.errors.map((e: { field: string }) => e.field).sort();
    expect(fields).toEqual(['/colour', '/email', '/geo', '/name', '/phone']);
    expect(await stack.db.lead.count()).toBe(before);
    const counts = await stack.workerDeps!.queues.route.getJobCounts(
      'waiting',
      'active',
      'delayed',
      'completed',
      'failed',
    );
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
  });

  it('answers 401 without a key or with an unknown one', async () => {
    const none = await stack.request('POST', '/v1/leads', { body: sampleLead() });
    expect(none.status).toBe(401);
    expect(none.body.status).toBe('rejected');
    const wrong = await stack.request('POST', '/v1/leads', { key: 'lr_nope', body: sampleLead() });
    expect(wrong.status).toBe(401);
    const viaHeader = await stack.request('POST', '/v1/leads', {
      headers: { 'x-api-key': source.apiKey },
      body: sampleLead({ phone: '+1 415 555 0104' }),
    });
    expect(viaHeader.status).toBe(202);
  });
});
