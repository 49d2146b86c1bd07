import { leadDetail } from '@leadrouter/lifecycle';
import { FakePartner } from '../support/partner';
import { ADMIN_TOKEN, sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

/** README "Operating it (runbook)": a dead letter, fixed and retried, with the real worker and a partner on loopback. */
describe('dead letters with a real worker', () => {
  const stack = new TestStack();
  let partner: FakePartner | undefined;
  let source: { id: string; apiKey: string };
  let phone = 2000;

  beforeAll(async () => {
    await stack.start();
    source = await stack.createSource();
  });
  afterAll(() => stack.stop());
  afterEach(async () => {
    await partner?.stop();
    partner = undefined;
    await stack.db.route.updateMany({ data: { active: false } });
  });

  async function routeTo(p: FakePartner) {
    const created = await stack.createPartner({
      url: p.url,
      maxAttempts: 2,
      backoff: { delayMs: 20, maxDelayMs: 100 },
    });
    await stack.createRoute({ priority: 10, partners: [{ partnerId: created.id }], strategy: 'priority' });
    return created;
  }

  async function postLead(): Promise<string> {
    const res = await stack.request('POST', '/v1/leads', {
      key: source.apiKey,
      body: sampleLead({ phone: `+1 415 555 ${phone++}` }),
    });
    expect(res.status).toBe(202);
    return res.body.id;
  }

  const settled = (id: string, status: string) =>
    waitFor(async () => (await stack.leadStatus(id)) === status, { what: `lead ${id} to be ${status}` });

  it('a partner answering 502 dead-letters the lead; once fixed, a retry delivers it with attempts 3 and 4', async () => {
    // Two 502s exhaust maxAttempts 2; after the fix the partner fails once more, then accepts.
    partner = FakePartner.sequence({ status: 502 }, { status: 502 }, { status: 502 }, { status: 200, body: { ok: 1 } });
    await partner.start();
    const p = await routeTo(partner);
    const id = await postLead();
    await settled(id, 'dead_lettered');

    const list = await stack.admin('GET', `/dead-letters?partner=${p.name}`);
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([
      {
        id: expect.any(String),
        leadId: id,
        partner: p.name,
        partnerId: p.id,
        status: 'dead_lettered',
        attempts: 2,
        retries: 0,
        lastError: expect.stringContaining('502'),
        at: expect.any(String),
      },
    ]);
    const deliveryId: string = list.body.items[0].id;

    const retried = await stack.admin('POST', `/dead-letters/${deliveryId}/retry`);
    expect(retried.status).toBe(200);
    expect(retried.body).toEqual({ requeued: 1 });
    await settled(id, 'delivered');

    const view = await stack.request('GET', `/v1/leads/${id}`, { key: ADMIN_TOKEN });
    expect(
      view.body.deliveries.map((d: { attempt: number; outcome: string; httpStatus: number }) => [
        d.attempt,
        d.outcome,
        d.httpStatus,
      ]),
    ).toEqual([
      [1, 'retry', 502],
      [2, 'failed', 502],
      [3, 'retry', 502],
      [4, 'accepted', 200],
    ]);
    expect(view.body.events.map((e: { status: string }) => e.status)).toEqual([
      'queued',
      'routing',
      'dead_lettered',
      'routing',
      'delivered',
    ]);
    expect(partner.requests).toHaveLength(4);
    expect(new Set(partner.requests.map((r) => r.headers['idempotency-key'])).size).toBe(1);
    const delivery = await stack.db.delivery.findUniqueOrThrow({ where: { id: deliveryId } });
    expect(delivery).toMatchObject({ status: 'accepted', attempts: 4, attemptsBase: 2, retries: 1 });
    expect((await stack.admin('GET', '/dead-letters')).body.items).toEqual([]);
    // Retrying what is no longer a dead letter changes nothing.
    const again = await stack.admin('POST', `/dead-letters/${deliveryId}/retry`);
    expect(again.status).toBe(409);
    expect(again.body.deliveryStatus).toBe('accepted');
  });

  it('bulk retry of a partner’s dead letters delivers every one and says how many', async () => {
    partner = new FakePartner(() => ({ status: 502 }));
    await partner.start();
    const p = await routeTo(partner);
    const ids = [await postLead(), await postLead(), await postLead()];
    for (const id of ids) await settled(id, 'dead_lettered');

    partner.respondWith(() => ({ status: 200, body: { ok: 1 } }));
    const res = await stack.admin('POST', '/dead-letters/retry', { partner: p.id });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      requeued: 3,
      skipped: {
        not_dead_lettered: 0,
        sold: 0,
        busy: 0,
        partner_paused: 0,
        partner_inactive: 0,
        personal_data_erased: 0,
      },
    });
    for (const id of ids) await settled(id, 'delivered');
    expect(partner.requests).toHaveLength(9);
  });

  /** Partners of a test of their own, stopped after it (the others use `partner`). */
  const extra: FakePartner[] = [];
  afterEach(async () => {
    await Promise.all(extra.splice(0).map((p) => p.stop()));
  });
  async function partnerOf(fake: FakePartner) {
    extra.push(await fake.start());
    return stack.createPartner({ url: fake.url, maxAttempts: 2, backoff: { delayMs: 20, maxDelayMs: 100 } });
  }
  const deliveryOf = (leadId: string, partnerId: string) =>
    stack.db.delivery.findUniqueOrThrow({ where: { leadId_partnerId: { leadId, partnerId } } });

  it('a dead letter of a lead sold exclusively through the next partner is superseded: out of the list, kept in the history, never retried', async () => {
    const failing = await partnerOf(new FakePartner(() => ({ status: 502 })));
    const buyer = await partnerOf(new FakePartner());
    await stack.createRoute({
      priority: 10,
      partners: [{ partnerId: failing.id }, { partnerId: buyer.id }],
      strategy: 'priority',
    });
    const id = await postLead();
    await settled(id, 'delivered');
    const dead = await waitFor(
      async () => {
        const d = await deliveryOf(id, failing.id);
        return d.status === 'superseded' ? d : undefined;
      },
      { what: 'the dead letter to be superseded' },
    );
    expect(dead).toMatchObject({ attempts: 2, lastError: expect.stringContaining('502') });
    expect(dead.deadLetteredAt).not.toBeNull(); // when it was dead-lettered, kept

    expect((await stack.admin('GET', `/dead-letters?partner=${failing.id}`)).body.items).toEqual([]);
    const superseded = await stack.admin('GET', `/dead-letters?partner=${failing.id}&status=superseded`);
    expect(superseded.body.items).toEqual([
      expect.objectContaining({ id: dead.id, leadId: id, status: 'superseded', attempts: 2 }),
    ]);
    const retried = await stack.admin('POST', `/dead-letters/${dead.id}/retry`);
    expect(retried.status).toBe(409);
    expect(retried.body).toMatchObject({ reason: 'sold', deliveryStatus: 'superseded' });
    const bulk = await stack.admin('POST', '/dead-letters/retry', { partner: failing.id });
    expect(bulk.body).toMatchObject({ requeued: 0, skipped: { sold: 0, not_dead_lettered: 0 } });
    expect((await stack.admin('DELETE', `/dead-letters/${dead.id}`)).status).toBe(409);

    // The lead's history keeps it: the delivery, its attempts, and the sale.
    const detail = await leadDetail(stack.db, id, 'USD');
    expect(detail.status).toBe('delivered');
    expect(detail.deliveries.map((d) => [d.partner, d.status, d.attemptLog.length])).toEqual([
      [failing.name, 'superseded', 2],
      [buyer.name, 'accepted', 1],
    ]);
    expect((await deliveryOf(id, failing.id)).status).toBe('superseded');
  });

  it('a shared lead keeps its dead letters while a retry may fill the share, and supersedes the rest once it is full', async () => {
    const buyer = new FakePartner();
    const flaky = new FakePartner(() => ({ status: 502 }));
    const failing = new FakePartner(() => ({ status: 502 }));
    const [b, f, x] = [await partnerOf(buyer), await partnerOf(flaky), await partnerOf(failing)];
    await stack.createRoute({
      priority: 10,
      maxDeliveries: 2,
      partners: [{ partnerId: b.id }, { partnerId: f.id }, { partnerId: x.id }],
      strategy: 'priority',
    });
    const id = await postLead();
    // Sold to one of two: both dead letters may still fill the second share.
    await settled(id, 'delivered');
    const listed = async () =>
      (await stack.admin('GET', '/dead-letters')).body.items
        .filter((d: { leadId: string }) => d.leadId === id)
        .map((d: { partnerId: string; status: string }) => [d.partnerId, d.status]);
    expect((await listed()).sort()).toEqual(
      [
        [f.id, 'dead_lettered'],
        [x.id, 'dead_lettered'],
      ].sort(),
    );

    // The retried one is sold: the share is full, and the other dead letter is superseded.
    flaky.respondWith(() => ({ status: 200, body: { accepted: true } }));
    const flakyDead = await deliveryOf(id, f.id);
    expect((await stack.admin('POST', `/dead-letters/${flakyDead.id}/retry`)).body).toEqual({ requeued: 1 });
    await waitFor(async () => (await deliveryOf(id, x.id)).status === 'superseded', {
      what: 'the other dead letter to be superseded',
    });
    expect((await deliveryOf(id, f.id)).status).toBe('accepted');
    expect(await stack.leadStatus(id)).toBe('delivered');
    expect(await listed()).toEqual([]);
    const refused = await stack.admin('POST', `/dead-letters/${(await deliveryOf(id, x.id)).id}/retry`);
    expect([refused.status, refused.body.reason]).toEqual([409, 'sold']);
  });

  it('a discarded dead letter leaves the list, stays in the history, and the worker settles the lead as unsold', async () => {
    partner = new FakePartner(() => ({ status: 502 }));
    await partner.start();
    await routeTo(partner);
    const id = await postLead();
    await settled(id, 'dead_lettered');
    const [dead] = (await stack.admin('GET', '/dead-letters')).body.items;
    expect(dead.leadId).toBe(id);

    expect((await stack.admin('DELETE', `/dead-letters/${dead.id}`)).status).toBe(204);
    await settled(id, 'unsold');
    expect((await stack.admin('GET', '/dead-letters')).body.items).toEqual([]);
    const view = await stack.request('GET', `/v1/leads/${id}`, { key: ADMIN_TOKEN });
    expect(view.body.events.map((e: { status: string }) => e.status)).toEqual([
      'queued',
      'routing',
      'dead_lettered',
      'routing',
      'unsold',
    ]);
    expect(view.body.deliveries).toHaveLength(2); // both attempts are still there
    const delivery = await stack.db.delivery.findUniqueOrThrow({ where: { id: dead.id } });
    expect(delivery).toMatchObject({ status: 'rejected', reason: 'discarded by operator' });
  });
});
