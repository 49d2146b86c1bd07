import { Webhook } from 'standardwebhooks';
import { sendPostback } from '../../services/worker/src/postback';
import { Fixtures } from '../support/fixtures';
import { FakePartner } from '../support/partner';
import { sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

describe('postbacks to sources', () => {
  const stack = new TestStack();
  let buyer: FakePartner;
  let affiliate: FakePartner;

  beforeAll(async () => {
    await stack.start();
    buyer = await new FakePartner(() => ({ status: 200, body: { ok: true, bid: 9.5 } })).start();
    const p = await stack.createPartner({ url: buyer.url, name: 'acme-buyer', responseMap: { price: 'bid' } });
    await stack.createRoute({ filters: { geo: ['US'] }, partners: [{ partnerId: p.id }] });
  });
  afterAll(async () => {
    await buyer.stop();
    await affiliate?.stop();
    await stack.stop();
  });

  it('tell the source its lead was delivered, and when, and that another went unmatched', async () => {
    affiliate = await new FakePartner(() => ({ status: 204 })).start();
    const source = await stack.createSource({ postbackUrl: affiliate.url });
    const sold = await stack.request('POST', '/v1/leads', { key: source.apiKey, body: sampleLead() });
    const unmatched = await stack.request('POST', '/v1/leads', {
      key: source.apiKey,
      body: sampleLead({ geo: 'CA', phone: '+1 604 555 0142', email: 'ca@example.com' }),
    });
    await waitFor(() => affiliate.requests.length === 2, { what: 'two postbacks' });
    const byId = new Map(affiliate.requests.map((r) => [(r.json as { id: string }).id, r]));
    const statusAt = async (leadId: string, status: 'delivered' | 'unmatched') =>
      (await stack.db.leadEvent.findFirstOrThrow({ where: { leadId, status } })).at.toISOString();
    // The source's terms only: no partner name, no price (README "Postbacks (for sources)").
    expect(byId.get(sold.body.id)!.json).toEqual({
      id: sold.body.id,
      status: 'delivered',
      at: await statusAt(sold.body.id, 'delivered'),
    });
    expect(byId.get(unmatched.body.id)!.json).toEqual({
      id: unmatched.body.id,
      status: 'unmatched',
      at: await statusAt(unmatched.body.id, 'unmatched'),
    });
    expect(byId.get(sold.body.id)!.headers['content-type']).toBe('application/json');
    // Signed with the source's postbackSecret (Standard Webhooks), shown once when the source was created.
    const secret = (source as unknown as { postbackSecret: string }).postbackSecret;
    for (const r of affiliate.requests) {
      expect(() => new Webhook(secret).verify(r.body, r.headers as Record<string, string>)).not.toThrow();
    }
    expect(() =>
      new Webhook('whsec_' + Buffer.alloc(32, 1).toString('base64')).verify(
        affiliate.requests[0]!.body,
        affiliate.requests[0]!.headers as Record<string, string>,
      ),
    ).toThrow();
    await affiliate.stop();
  });

  it('are retried with backoff when the source’s endpoint fails', async () => {
    affiliate = FakePartner.sequence({ status: 503 }, { status: 200 });
    await affiliate.start();
    const source = await stack.createSource({ postbackUrl: affiliate.url });
    const res = await stack.request('POST', '/v1/leads', {
      key: source.apiKey,
      body: sampleLead({ phone: '+1 415 555 0188', email: 'retry@example.com' }),
    });
    await waitFor(
      async () => (await stack.db.postback.findFirst({ where: { leadId: res.body.id } }))?.status === 'delivered',
      {
        what: 'postback delivered on retry',
      },
    );
    expect(affiliate.requests).toHaveLength(2);
    const row = await stack.db.postback.findFirstOrThrow({ where: { leadId: res.body.id } });
    expect(row).toMatchObject({ attempts: 2, httpStatus: 200, leadStatus: 'delivered' });
    await affiliate.stop();
  });

  it('are not sent for sources without a postbackUrl', async () => {
    const source = await stack.createSource();
    const res = await stack.request('POST', '/v1/leads', {
      key: source.apiKey,
      body: sampleLead({ phone: '+1 415 555 0189', email: 'none@example.com' }),
    });
    await waitFor(async () => (await stack.leadStatus(res.body.id)) === 'delivered', { what: 'delivery' });
    expect(await stack.db.postback.count({ where: { leadId: res.body.id } })).toBe(0);
  });

  it('name no partner and no price, even of a lead three partners bought; a job for another attempt or a source without a postbackUrl sends nothing', async () => {
    affiliate = FakePartner.sequence({ status: 204 }, { status: 422, body: { error: 'unknown lead' } });
    await affiliate.start();
    const deps = stack.workerDeps!;
    const fixtures = new Fixtures(stack.db);
    const source = await stack.db.source.update({
      where: { id: (await fixtures.source()).id },
      data: { postbackUrl: affiliate.url },
    });
    const shared = await fixtures.lead({ sourceId: source.id, status: 'delivered', maxDeliveries: 3 });
    const accepted = async (name: string, price: number | null, updatedAt: Date) => {
      const partner = await fixtures.partner({ name });
      await stack.db.delivery.create({
        data: { leadId: shared.id, partnerId: partner.id, status: 'accepted', attempts: 1, price, updatedAt },
      });
    };
    await accepted('second-buyer', null, new Date(Date.now() - 1000));
    await accepted('first-buyer', 2.5, new Date(Date.now() - 2000));
    await accepted('third-buyer', 1.25, new Date(Date.now() - 500));
    // Pending rows the worker's sweeper does not see (no due time): only these calls send them.
    const postback = (leadId: string, leadStatus: 'delivered' | 'unsold', sourceId = source.id) =>
      stack.db.postback.create({ data: { leadId, sourceId, leadStatus } });
    const sold = await postback(shared.id, 'delivered');

    expect(await sendPostback(deps, { postbackId: sold.id, attempt: 2 })).toBe('stale');
    expect(affiliate.requests).toHaveLength(0);
    expect(await sendPostback(deps, { postbackId: sold.id, attempt: 1 })).toBe('delivered');
    expect(affiliate.requests.map((r) => [r.json, r.headers['x-lead-id'], r.headers['webhook-signature']])).toEqual([
      [{ id: shared.id, status: 'delivered', at: sold.createdAt.toISOString() }, shared.id, undefined],
    ]);
    expect(affiliate.requests[0]!.body).not.toMatch(/buyer|2\.5|1\.25|3\.75/);
    expect(await stack.db.postback.findUniqueOrThrow({ where: { id: sold.id } })).toMatchObject({
      status: 'delivered',
      attempts: 1,
      httpStatus: 204,
      lastError: null,
      nextAttemptAt: null,
    });
    expect(await sendPostback(deps, { postbackId: sold.id, attempt: 1 })).toBe('stale');

    // Refused (4xx): failed at once, with the reason.
    const unsold = await postback(shared.id, 'unsold');
    expect(await sendPostback(deps, { postbackId: unsold.id, attempt: 1 })).toBe('failed');
    expect(affiliate.requests[1]!.json).toEqual({
      id: shared.id,
      status: 'unsold',
      at: unsold.createdAt.toISOString(),
    });
    expect(await stack.db.postback.findUniqueOrThrow({ where: { id: unsold.id } })).toMatchObject({
      status: 'failed',
      attempts: 1,
      httpStatus: 422,
      lastError: expect.stringContaining('422'),
      nextAttemptAt: null,
    });

    // The source dropped its postbackUrl after the lead settled.
    const gone = await fixtures.source();
    const orphan = await postback((await fixtures.lead({ sourceId: gone.id, status: 'unsold' })).id, 'unsold', gone.id);
    expect(await sendPostback(deps, { postbackId: orphan.id, attempt: 1 })).toBe('failed');
    expect(await stack.db.postback.findUniqueOrThrow({ where: { id: orphan.id } })).toMatchObject({
      status: 'failed',
      attempts: 0,
      lastError: 'the source has no postbackUrl any more',
    });
    expect(affiliate.requests).toHaveLength(2);
    await affiliate.stop();
  });
});
