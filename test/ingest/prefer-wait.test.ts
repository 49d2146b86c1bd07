import { createRedis, outcomesChannel, OutcomeWaiters } from '@leadrouter/queue';
import { FakePartner } from '../support/partner';
import { ServiceProcess } from '../support/process';
import { sampleLead, TestStack } from '../support/stack';
import { gate, waitFor } from '../support/wait';

/** `Prefer: wait=N` on POST /v1/leads (ADR 0033), with a real worker and partners. */
describe('a source waiting for its lead’s outcome', () => {
  const stack = new TestStack();
  const partners: FakePartner[] = [];
  const routes: string[] = [];
  let phone = 0;

  beforeAll(() => stack.start());
  afterAll(() => stack.stop());
  afterEach(async () => {
    await Promise.all(partners.splice(0).map((p) => p.stop()));
    // Through the admin API, so the worker's cached rules drop them at once.
    for (const id of routes.splice(0))
      expect((await stack.admin('PATCH', `/routes/${id}`, { active: false })).status).toBe(200);
  });

  /** A fresh lead (its own phone and email, so no duplicate check ever meets another test's). */
  const lead = () => {
    phone++;
    return sampleLead({ phone: `+1 415 555 ${String(1000 + phone)}`, email: `wait${phone}@example.com` });
  };
  const post = (key: string, prefer?: string, body: unknown = lead()) =>
    stack.request('POST', '/v1/leads', { key, body, headers: prefer === undefined ? {} : { prefer } });

  async function routeTo(partner: FakePartner, extra: Record<string, unknown> = {}) {
    partners.push(await partner.start());
    const created = await stack.createPartner({
      url: partner.url,
      backoff: { delayMs: 20, maxDelayMs: 100 },
      ...extra,
    });
    routes.push((await stack.createRoute({ priority: 10, partners: [{ partnerId: created.id }] })).id);
    return created;
  }

  it('answers 200 delivered with the source’s payout when an instant partner buys the lead', async () => {
    const source = await stack.createSource({ payout: { model: 'revshare', percent: 40 } });
    const partner = await routeTo(new FakePartner(), { price: 25 });

    const res = await post(source.apiKey, 'wait=10');
    expect(res.status).toBe(200);
    expect(res.headers.get('preference-applied')).toBe('wait=10');
    expect(res.body).toEqual({ status: 'delivered', id: expect.stringMatching(/^[0-9a-f-]{36}$/), payout: 10 });
    // Recorded and delivered, as without the header; the source never sees its buyer or its price (the exact
    // body above: its own payout, nothing else).
    expect(await stack.leadStatus(res.body.id)).toBe('delivered');
    expect(JSON.stringify(res.body)).not.toContain(partner.name);
  });

  it('answers 200 unsold with the source’s reason, nothing of the partner’s answer, when the partner refuses', async () => {
    const source = await stack.createSource();
    const partner = await routeTo(
      FakePartner.sequence({ status: 400, body: { error: 'SECRET-BUYER-REASON: zip not served' } }),
    );

    const res = await post(source.apiKey, 'wait=10');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'unsold', id: expect.any(String), reason: 'unsold' });
    expect(JSON.stringify(res.body)).not.toMatch(new RegExp(`SECRET|${partner.name}`));
    expect(await stack.leadStatus(res.body.id)).toBe('unsold');
  });

  it('answers 200 unmatched when no route takes the lead', async () => {
    const source = await stack.createSource();
    const res = await post(source.apiKey, 'respond-async, wait=5');
    expect(res.status).toBe(200);
    expect(res.headers.get('preference-applied')).toBe('wait=5');
    expect(res.body).toEqual({ status: 'unmatched', id: expect.any(String), reason: 'unmatched' });
  });

  it('answers the usual 202 once N seconds pass without an outcome, and the lead goes on', async () => {
    const source = await stack.createSource();
    const answer = gate();
    await routeTo(
      new FakePartner(async () => {
        await answer.opened;
        return { status: 200, body: { accepted: true } };
      }),
    );

    const started = Date.now();
    const res = await post(source.apiKey, 'wait=1');
    const waited = Date.now() - started;
    expect(res.status).toBe(202);
    expect(res.headers.get('preference-applied')).toBe('wait=1');
    expect(res.body).toEqual({ status: 'accepted', id: expect.any(String) });
    expect(waited).toBeGreaterThanOrEqual(1000);
    expect(waited).toBeLessThan(10_000); // the partner answers only when told to, below
    answer.open();
    expect(await stack.finalStatus(res.body.id)).toBe('delivered');
  });

  it('refuses a wait it cannot honour before recording anything, and ignores other preferences', async () => {
    const source = await stack.createSource();
    for (const prefer of ['wait=31', 'wait=abc', 'wait=-1', 'wait=1.5', 'wait']) {
      const res = await post(source.apiKey, prefer);
      expect(res.status).toBe(422);
      expect(res.body.errors).toEqual([
        { field: 'Prefer', message: 'wait must be a whole number of seconds from 0 to 30' },
      ]);
    }
    expect(await stack.db.lead.count({ where: { sourceId: source.id } })).toBe(0);

    for (const prefer of ['respond-async', 'return=minimal', 'wait=0']) {
      const res = await post(source.apiKey, prefer);
      expect(res.status).toBe(202);
      expect(res.headers.get('preference-applied')).toBeNull();
    }
  });

  it('gives each lead of a batch its outcome, and a 422 for a bad wait records none', async () => {
    const source = await stack.createSource({ payout: { model: 'cpl', amount: '7.25' } });
    await routeTo(new FakePartner(), { price: 20 });

    const bad = await stack.request('POST', '/v1/leads/batch', {
      key: source.apiKey,
      body: { leads: [lead()] },
      headers: { prefer: 'wait=99' },
    });
    expect(bad.status).toBe(422);
    expect(await stack.db.lead.count({ where: { sourceId: source.id } })).toBe(0);

    const res = await stack.request('POST', '/v1/leads/batch', {
      key: source.apiKey,
      body: { leads: [lead(), { name: 'x', phone: 'not a phone' }, lead()] },
      headers: { prefer: 'wait=10' },
    });
    expect(res.status).toBe(207);
    expect(res.headers.get('preference-applied')).toBe('wait=10');
    expect(res.body.results).toEqual([
      { status: 'delivered', id: expect.any(String), payout: 7.25 },
      { status: 'rejected', errors: expect.any(Array) },
      { status: 'delivered', id: expect.any(String), payout: 7.25 },
    ]);
  });

  it('finds an outcome reached before the request started waiting (its announcement long gone)', async () => {
    const source = await stack.createSource();
    const res = await post(source.apiKey);
    expect(res.status).toBe(202);
    // Settled (unmatched) and announced before anything waits for it: only PostgreSQL knows it now.
    expect(await stack.finalStatus(res.body.id)).toBe('unmatched');

    const waiters = new OutcomeWaiters(stack.ingestConfig.REDIS_URL, stack.prefix);
    try {
      const started = Date.now();
      let looks = 0;
      const found = await waiters.wait([res.body.id], 10_000, async (ids) => {
        looks++;
        const rows = await stack.db.lead.findMany({ where: { id: { in: ids } }, select: { id: true, status: true } });
        return new Map(rows.filter((r) => r.status === 'unmatched').map((r) => [r.id, r.status]));
      });
      // Found by its first look: not at the deadline (which would be a second look), not by a message.
      expect(found.get(res.body.id)).toBe('unmatched');
      expect(looks).toBe(1);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(waiters.waiting).toBe(0);
    } finally {
      waiters.close();
    }
  });

  it('is woken by the announcement, not by polling, when the outcome comes after it looked', async () => {
    const waiters = new OutcomeWaiters(stack.ingestConfig.REDIS_URL, stack.prefix);
    const publisher = createRedis({ url: stack.ingestConfig.REDIS_URL, role: 'worker' });
    try {
      await waitFor(() => waiters.live, { what: 'the outcomes subscription' });
      const id = '00000000-0000-4000-8000-000000000001';
      let settled = false;
      let looks = 0;
      const waiting = waiters.wait([id], 20_000, async () => {
        looks++;
        return new Map(settled ? [[id, 'delivered']] : []);
      });
      await new Promise((r) => setImmediate(r));
      settled = true;
      const started = Date.now();
      await publisher.publish(outcomesChannel(stack.prefix), id);
      expect((await waiting).get(id)).toBe('delivered');
      // Long before its 20 s deadline: the message woke it.
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(looks).toBe(2);
    } finally {
      waiters.close();
      publisher.disconnect();
    }
  });
});

describe('waiting across ingest replicas', () => {
  const stack = new TestStack();
  const replicas: ServiceProcess[] = [];
  let partner: FakePartner;

  beforeAll(async () => {
    await stack.start();
    for (let i = 0; i < 2; i++) replicas.push(new ServiceProcess('ingest', stack.env()));
    await Promise.all(replicas.map((r) => r.start()));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop('SIGKILL')));
    await partner?.stop();
    await stack.stop();
  });

  it('answers each replica’s waiting posts through one subscription per ingest, from the worker’s announcements', async () => {
    const source = await stack.createSource({ payout: { model: 'cpl', amount: 3 } });
    const release = gate();
    partner = await new FakePartner(async () => {
      await release.opened;
      return { status: 200, body: { accepted: true } };
    }).start();
    const created = await stack.createPartner({ url: partner.url });
    await stack.createRoute({ priority: 10, partners: [{ partnerId: created.id }] });

    const posts = Array.from({ length: 6 }, (_, i) =>
      fetch(`${replicas[i % 2]!.url}/v1/leads`, {
        method: 'POST',
        headers: { authorization: `Bearer ${source.apiKey}`, 'content-type': 'application/json', prefer: 'wait=20' },
        body: JSON.stringify(sampleLead({ phone: `+1 415 555 06${10 + i}`, email: `rep${i}@example.com` })),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> })),
    );
    // Every lead recorded and at the partner, every request waiting: still one subscriber per ingest (the two
    // replicas and the stack's own), not one per request.
    await waitFor(() => partner.requests.length >= 6, { what: 'six leads at the partner' });
    const redis = createRedis({ url: stack.ingestConfig.REDIS_URL, role: 'worker' });
    try {
      const [, subscribers] = (await redis.pubsub('NUMSUB', outcomesChannel(stack.prefix))) as [string, number];
      expect(subscribers).toBe(3);
    } finally {
      redis.disconnect();
    }
    release.open();
    const answers = await Promise.all(posts);
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(200));
    expect(answers.map((a) => a.body)).toEqual(
      Array(6).fill({ status: 'delivered', id: expect.any(String), payout: 3 }),
    );
  });
});
