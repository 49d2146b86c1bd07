import { randomUUID } from 'node:crypto';
import { FakePartner } from '../support/partner';
import { sampleLead, TestStack } from '../support/stack';

/**
 * The admin endpoints the operator console needs besides the CRUD: lead
 * search by phone and email, a lead's whole story, leads per minute, queue
 * depths, pausing a partner and its health, and the routing dry run.
 */

const stack = new TestStack();
const partner = new FakePartner((req) =>
  (req.json as { fields?: { zip?: string } })?.fields?.zip === '10001'
    ? { status: 422, body: { accepted: false, error: 'zip not served' } }
    : { status: 200, body: { accepted: true, buyer_ref: 'B-1' } },
);
let source: { id: string; apiKey: string };
let partnerId: string;
let routeId: string;
const leads: string[] = [];

beforeAll(async () => {
  await Promise.all([stack.start(), partner.start()]);
  source = await stack.createSource();
  const p = await stack.createPartner({ url: partner.url, maxAttempts: 1, caps: { hourly: 100, daily: 1000 } });
  partnerId = p.id;
  routeId = (await stack.createRoute({ partners: [{ partnerId }] })).id;
  for (const [i, zip] of ['94107', '10001', '94107'].entries()) {
    const res = await stack.request('POST', '/v1/leads', {
      key: source.apiKey,
      body: sampleLead({ phone: `+1 415 555 02${10 + i}`, email: `Lead${i}@Example.com`, fields: { zip } }),
    });
    expect(res.status).toBe(202);
    leads.push(res.body.id);
  }
  for (const id of leads) await stack.finalStatus(id);
});
afterAll(async () => {
  await stack.stop();
  await partner.stop();
});

describe('lead search by phone and email', () => {
  it('finds a lead by its phone however it is written, and by its email in any case', async () => {
    for (const phone of ['+14155550211', '+1 (415) 555-0211', '1 415 555 0211']) {
      const res = await stack.admin('GET', `/leads?phone=${encodeURIComponent(phone)}`);
      expect({ phone, ids: res.body.items.map((l: { id: string }) => l.id) }).toEqual({ phone, ids: [leads[1]] });
    }
    const byEmail = await stack.admin('GET', `/leads?email=${encodeURIComponent('LEAD2@example.COM')}`);
    expect(byEmail.body.items.map((l: { id: string }) => l.id)).toEqual([leads[2]]);
    const none = await stack.admin('GET', '/leads?email=nobody@example.com');
    expect(none.body.items).toEqual([]);
  });

  it('says which parameter is wrong', async () => {
    const res = await stack.admin('GET', '/leads?phone=call-me');
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([{ field: 'phone', message: expect.stringMatching(/country code/) }]);
  });
});

describe('a lead’s whole story', () => {
  it('has its data, events, routing decision and every attempt with the partner’s answer', async () => {
    const res = await stack.admin('GET', `/leads/${leads[1]}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: leads[1],
      status: 'unsold',
      source: { id: source.id },
      lead: { phone: '+14155550211', email: 'lead1@example.com', fields: { zip: '10001' } },
      routing: { routeId, candidates: [partnerId] },
    });
    expect(res.body.events.map((e: { status: string }) => e.status)).toEqual(['queued', 'routing', 'unsold']);
    const [delivery] = res.body.deliveries;
    expect(delivery).toMatchObject({ partnerId, status: 'rejected' });
    expect(delivery.attemptLog).toEqual([
      expect.objectContaining({
        attempt: 1,
        outcome: 'rejected',
        httpStatus: 422,
        response: expect.stringContaining('zip not served'),
      }),
    ]);
    expect((await stack.admin('GET', `/leads/${randomUUID()}`)).status).toBe(404);
    expect((await stack.admin('GET', '/leads/not-an-id')).status).toBe(404);
  });
});

describe('leads per minute', () => {
  it('counts the leads of each minute of the window, empty minutes included', async () => {
    const since = new Date(Date.now() - 10 * 60_000).toISOString();
    const res = await stack.admin('GET', `/stats/timeline?since=${since}`);
    expect(res.status).toBe(200);
    expect(res.body.step).toBe('minute');
    expect(res.body.points.length).toBeGreaterThanOrEqual(10);
    expect(res.body.points.reduce((n: number, p: { received: number }) => n + p.received, 0)).toBe(3);
    expect(res.body.points.reduce((n: number, p: { delivered: number }) => n + p.delivered, 0)).toBe(2);
    const hourly = await stack.admin('GET', `/stats/timeline?since=${since}&step=hour`);
    expect(hourly.body.points.length).toBeLessThanOrEqual(2);
  });

  it('refuses a window too long for its step, and an unknown step', async () => {
    const long = await stack.admin('GET', '/stats/timeline?since=2020-01-01T00:00:00Z');
    expect(long.status).toBe(422);
    expect(long.body.errors[0].field).toBe('since');
    const step = await stack.admin('GET', '/stats/timeline?step=second');
    expect(step.status).toBe(422);
    expect(step.body.errors[0].field).toBe('step');
  });
});

describe('queue depths', () => {
  it('answers each queue by state, and the dead letters waiting for an operator', async () => {
    const res = await stack.admin('GET', '/queues');
    expect(res.status).toBe(200);
    expect(res.body.queues.map((q: { name: string }) => q.name).sort()).toEqual([
      'deliver',
      'ping',
      'postback',
      'route',
    ]);
    for (const q of res.body.queues)
      expect(q).toEqual({
        name: q.name,
        waiting: expect.any(Number),
        active: expect.any(Number),
        delayed: expect.any(Number),
        failed: expect.any(Number),
      });
    expect(res.body.deadLetters).toBe(0);
  });
});

describe('a partner’s health, pause and resume', () => {
  it('answers outcomes, success rate, the last failure and the caps in use', async () => {
    const res = await stack.admin('GET', `/partners/${partnerId}/health`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      partnerId,
      deliveries: { accepted: 2, rejected: 1, pending: 0, dead_lettered: 0 },
      attempts: 3,
      consecutiveFailures: 0,
      lastError: { outcome: 'rejected', httpStatus: 422 },
      caps: { hour: { used: 2, limit: 100 }, day: { used: 2, limit: 1000 } },
    });
    expect(res.body.successRate).toBeCloseTo(2 / 3);
    expect((await stack.admin('GET', `/partners/${randomUUID()}/health`)).status).toBe(404);
    expect((await stack.admin('GET', `/partners/${partnerId}/health?since=yesterday`)).status).toBe(422);
  });

  it('pauses a partner by hand: new leads skip it until it is resumed', async () => {
    const paused = await stack.admin('POST', `/partners/${partnerId}/pause`, { reason: 'buyer asked for a break' });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ status: 'paused', pauseReason: 'buyer asked for a break' });
    const before = partner.requests.length;
    const res = await stack.request('POST', '/v1/leads', {
      key: source.apiKey,
      body: sampleLead({ phone: '+1 415 555 0299', email: 'paused@example.com' }),
    });
    expect(await stack.finalStatus(res.body.id)).toBe('unmatched');
    expect(partner.requests.length).toBe(before);
    const story = await stack.admin('GET', `/leads/${res.body.id}`);
    expect(story.body.routing.decisions).toEqual([
      expect.objectContaining({ partnerId, decision: 'skipped', reason: 'partner is paused' }),
    ]);

    expect((await stack.admin('POST', `/partners/${partnerId}/pause`, { reason: '' })).status).toBe(422);
    expect((await stack.admin('POST', `/partners/${randomUUID()}/pause`)).status).toBe(404);
    const resumed = await stack.admin('POST', `/partners/${partnerId}/resume`);
    expect(resumed.body.status).toBe('active');
    const after = await stack.request('POST', '/v1/leads', {
      key: source.apiKey,
      body: sampleLead({ phone: '+1 415 555 0298', email: 'resumed@example.com' }),
    });
    expect(await stack.finalStatus(after.body.id)).toBe('delivered');
  });
});

describe('the routing dry run', () => {
  const counts = async () => ({
    leads: await stack.db.lead.count(),
    deliveries: await stack.db.delivery.count(),
    routes: await stack.db.route.count(),
    requests: partner.requests.length,
  });

  it('replays the stored rules as they are: nothing changes, and it matches what happened', async () => {
    const route = (await stack.admin('GET', `/routes/${routeId}`)).body;
    const res = await stack.admin('POST', '/routes/dry-run', {
      route: {
        id: routeId,
        name: route.name,
        priority: route.priority,
        strategy: route.strategy,
        partners: route.partners,
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ leads: 5, changed: 0, sample: [] });
    // The paused-at-the-time lead is replayed with the partner as it is now (active): one more than really.
    expect(res.body.partners).toEqual([{ partnerId, name: expect.any(String), draft: 5, current: 5, actual: 4 }]);
    expect(res.body.unrouted).toEqual({ draft: 0, current: 0, actual: 1 });
    expect(res.body.notReplayed).toEqual(expect.arrayContaining([expect.stringMatching(/^caps/)]));
  });

  it('shows what a draft filter would change, per partner and lead by lead, and sends and writes nothing', async () => {
    const before = await counts();
    const res = await stack.admin('POST', '/routes/dry-run', {
      routes: [
        {
          name: 'draft: 94107 only',
          priority: 0,
          strategy: 'priority',
          filters: { fields: [{ field: 'fields.zip', op: 'eq', value: '94107' }] },
          partners: [{ partnerId }],
        },
      ],
      limit: 10,
    });
    expect(res.status).toBe(200);
    expect(res.body.partners).toEqual([expect.objectContaining({ partnerId, draft: 4, current: 5 })]);
    expect(res.body.unrouted).toMatchObject({ draft: 1, current: 0 });
    expect(res.body.changed).toBe(1);
    expect(res.body.sample).toEqual([
      {
        leadId: leads[1],
        createdAt: expect.any(String),
        draft: { routeId: null, routeName: null, offered: [], skipped: [], reason: 'no active route matches the lead' },
        current: { routeId, routeName: expect.any(String), offered: [partnerId] },
        actual: { offered: [partnerId] },
      },
    ]);
    expect(await counts()).toEqual(before);
  });

  it('replays only the last `limit` leads', async () => {
    const res = await stack.admin('POST', '/routes/dry-run', { routes: [], limit: 2 });
    expect(res.body).toMatchObject({ leads: 2, unrouted: { draft: 2 } });
  });

  it('says by field what is wrong with a draft', async () => {
    const unknown = await stack.admin('POST', '/routes/dry-run', {
      route: { name: 'x', priority: 0, strategy: 'priority', partners: [{ partnerId: randomUUID() }] },
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors).toEqual([
      { field: '/route/partners/0/partnerId', message: 'is not a known partner id' },
    ]);
    const pattern = await stack.admin('POST', '/routes/dry-run', {
      route: {
        name: 'x',
        priority: 0,
        strategy: 'priority',
        filters: { fields: [{ field: 'fields.zip', op: 'regex', value: '(' }] },
        partners: [{ partnerId }],
      },
    });
    expect(pattern.status).toBe(422);
    expect(pattern.body.errors).toEqual([
      { field: '/route/filters/fields/0/value', message: 'is not a valid RE2 pattern: missing closing ): `(`' },
    ]);
    const bad = await stack.admin('POST', '/routes/dry-run', {
      routes: [
        {
          name: 'x',
          priority: 0,
          strategy: 'priority',
          filters: { fields: [{ field: 'fields.zip', op: 'like', value: '9%' }] },
          partners: [{ partnerId }],
        },
      ],
      limit: 10_001,
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual(
      expect.arrayContaining(['/routes/0/filters/fields/0/op', '/limit']),
    );
    const both = await stack.admin('POST', '/routes/dry-run', {
      routes: [],
      route: { name: 'x', priority: 0, strategy: 'priority', partners: [{ partnerId }] },
    });
    expect(both.status).toBe(422);
    const neither = await stack.admin('POST', '/routes/dry-run', {});
    expect(neither.status).toBe(422);
  });
});
