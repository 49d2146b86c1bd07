import { randomUUID } from 'node:crypto';
import { amount, sumAmounts } from '@leadrouter/money';
import { recordFeedback, feedbackPartnerOf, sweep } from '@leadrouter/lifecycle';
import { PARTNER_BY_FEEDBACK_KEY, runStatement, sqlPool } from '@leadrouter/db';
import { hashApiKey } from '@leadrouter/core';
import { FakePartner } from '../support/partner';
import { ServiceProcess } from '../support/process';
import { ADMIN_TOKEN, sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

// The money loop of a lead (README "Money", "Feedback from partners", "Postbacks (for sources)"; ADR 0026), on real
// PostgreSQL, Redis and loopback partners: the sale written with the accepted delivery, feedback pushed by the
// partner (single, batch, twice, at once through two ingest processes, out of order), returns (queue, window,
// operator-filed), reversals, adjustments, the postbacks each event sends, and who sees what.

interface Entry {
  leadId: string;
  party: 'partner' | 'source';
  partyId: string;
  kind: string;
  amount: number;
  deliveryId: string | null;
}

describe('a lead’s money', () => {
  const stack = new TestStack();
  let buyer: FakePartner;
  let second: FakePartner;
  let affiliate: FakePartner;
  let partner: { id: string; name: string; feedbackKey: string };
  let other: { id: string; name: string; feedbackKey: string };
  let phones = 0;

  const lead = (overrides: Record<string, unknown> = {}) =>
    sampleLead({
      phone: `+1 415 555 ${String(1000 + ++phones).padStart(4, '0')}`,
      email: `money${phones}@example.com`,
      ...overrides,
    });
  const feedback = (key: string, body: unknown) => stack.request('POST', '/v1/feedback', { key, body });
  const adminView = async (id: string) => (await stack.request('GET', `/v1/leads/${id}`, { key: ADMIN_TOKEN })).body;
  const entries = async (id: string): Promise<Entry[]> => (await adminView(id)).money.entries;
  const postbacksOf = (id: string) =>
    affiliate.requests.map((r) => r.json as Record<string, unknown>).filter((b) => b.id === id);
  const delivered = async (id: string) =>
    waitFor(async () => (await stack.leadStatus(id)) === 'delivered', { what: `lead ${id} delivered` });

  beforeAll(async () => {
    await stack.start();
    let refs = 0;
    buyer = await new FakePartner(() => ({
      status: 200,
      body: { ok: true, price: '12.5', ref: `B-${++refs}` },
    })).start();
    second = await new FakePartner(() => ({ status: 200, body: { ok: true } })).start();
    affiliate = await new FakePartner(() => ({ status: 204 })).start();
    partner = await stack.createPartner({
      url: buyer.url,
      name: 'acme-buyer',
      responseMap: { price: 'price', reference: 'ref' },
      price: 9,
      conversionPrice: 40,
      returns: { windowDays: 30, autoApprove: false },
      statusMap: { Deposit: 'converted', 'Invalid Number': 'returned', Chargeback: 'reversed' },
    });
    other = await stack.createPartner({
      url: second.url,
      name: 'second-buyer',
      price: '7.25',
      returns: { windowDays: 30, autoApprove: true },
    });
    await stack.createRoute({
      name: 'one',
      priority: 10,
      filters: { geo: ['US'] },
      partners: [{ partnerId: partner.id }],
    });
    await stack.createRoute({
      name: 'shared',
      priority: 5,
      filters: { geo: ['CA'] },
      partners: [{ partnerId: partner.id }, { partnerId: other.id }],
      maxDeliveries: 2,
    });
  });
  afterAll(async () => {
    await buyer.stop();
    await second.stop();
    await affiliate.stop();
    await stack.stop();
  });

  it('the admin API takes payouts and prices exactly, and refuses what the ledger cannot hold', async () => {
    expect(partner.feedbackKey).toMatch(/^lrf_/);
    const shown = await stack.admin('GET', `/partners/${partner.id}`);
    expect(shown.body).toMatchObject({
      price: 9,
      conversionPrice: 40,
      returns: { windowDays: 30, autoApprove: false },
      feedbackKeyPrefix: partner.feedbackKey.slice(0, 8),
    });
    expect(JSON.stringify(shown.body)).not.toContain(partner.feedbackKey);
    const bad = await stack.admin('POST', '/partners', {
      name: 'bad-money',
      url: buyer.url,
      price: 0.12345,
      conversionPrice: -1,
      statusMap: { Deposit: 'converted', DEPOSIT: 'returned', x: 'paid' },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      '/conversionPrice',
      '/price',
      '/statusMap/DEPOSIT',
      '/statusMap/x',
    ]);
    const source = await stack.admin('POST', '/sources', {
      name: 'payout-checks',
      payout: { model: 'cpl', amount: '10.00005', percent: 5, geo: { us: 3 } },
    });
    expect(source.status).toBe(422);
    expect(source.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      '/payout/amount',
      '/payout/geo/us',
      '/payout/percent',
    ]);
    const ok = await stack.admin('POST', '/sources', {
      name: 'payout-ok',
      payout: { model: 'cpa', amount: 40, geo: { US: '45.5' } },
      clawback: false,
    });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ payout: { model: 'cpa', amount: 40, geo: { US: 45.5 } }, clawback: false });
    const changed = await stack.admin('PATCH', `/sources/${ok.body.id}`, {
      payout: { model: 'revshare', percent: 62.5 },
    });
    expect(changed.body.payout).toEqual({ model: 'revshare', percent: 62.5 });
    expect((await stack.admin('PATCH', `/sources/${ok.body.id}`, { payout: null })).body.payout).toBeNull();
  });

  it('a lead’s whole story: sale, conversion, return approved with clawback, reversal — the ledger sums to its margin, and each party sees its side', async () => {
    const source = await stack.createSource({
      postbackUrl: affiliate.url,
      payout: { model: 'revshare', percent: 50 },
    });
    const { body } = await stack.request('POST', '/v1/leads', { key: source.apiKey, body: lead() });
    const id = body.id as string;
    await delivered(id);

    // The sale, written with the accepted delivery: the price from the partner's answer ('12.5'), and half of it.
    let ledger = await entries(id);
    expect(ledger.map((e) => [e.party, e.kind, e.amount])).toEqual([
      ['partner', 'sale', 12.5],
      ['source', 'sale', 6.25],
    ]);
    const reference = (await stack.db.delivery.findFirstOrThrow({ where: { leadId: id } })).reference!;
    expect(reference).toMatch(/^B-/);

    // Converted, by the partner's own reference, for 40.
    const converted = await feedback(partner.feedbackKey, {
      reference,
      event: 'converted',
      amount: 40,
      eventId: `c-${id}`,
    });
    expect(converted).toMatchObject({ status: 202, body: { status: 'recorded', outcome: 'converted' } });
    expect(await stack.leadStatus(id)).toBe('converted');

    // Returned: queued for an operator (no autoApprove), then approved.
    const returned = await feedback(partner.feedbackKey, {
      leadId: id,
      event: 'returned',
      reason: 'disconnected number',
      eventId: `r-${id}`,
    });
    expect(returned.body).toEqual({ status: 'recorded', outcome: 'return_pending' });
    const queue = await stack.admin('GET', `/returns?status=pending&partner=${partner.id}`);
    const pending = queue.body.items.find((r: { leadId: string }) => r.leadId === id);
    expect(pending).toMatchObject({
      status: 'pending',
      amount: 12.5,
      reason: 'disconnected number',
      filedVia: 'push',
    });
    const approved = await stack.admin('POST', `/returns/${pending.id}/approve`);
    expect(approved.body).toMatchObject({ status: 'approved', decidedBy: 'operator' });
    expect((await stack.admin('POST', `/returns/${pending.id}/approve`)).status).toBe(200); // again: nothing more
    expect((await stack.admin('POST', `/returns/${pending.id}/reject`, { reason: 'late' })).status).toBe(409);
    expect(await stack.leadStatus(id)).toBe('returned');

    // Reversed: the conversion taken back, both sides.
    const reversed = await feedback(partner.feedbackKey, { leadId: id, event: 'reversed', reason: 'chargeback' });
    expect(reversed.body).toEqual({ status: 'recorded', outcome: 'reversed' });

    // An operator's correction on the source's side.
    const adjustment = await stack.request('POST', `/v1/admin/leads/${id}/adjustments`, {
      key: ADMIN_TOKEN,
      headers: { 'idempotency-key': `adj-${id}` },
      body: { party: 'source', partyId: source.id, amount: '1.5', note: 'goodwill' },
    });
    expect(adjustment.status).toBe(201);
    // The entry as README "The ledger" shapes it: {id, leadId, party, partyId, kind, amount, at} (and its sale, its note).
    expect(adjustment.body).toEqual({
      id: expect.any(String),
      leadId: id,
      party: 'source',
      partyId: source.id,
      kind: 'adjustment',
      amount: 1.5,
      deliveryId: null,
      note: 'goodwill',
      at: expect.any(String),
    });
    const replayed = await stack.request('POST', `/v1/admin/leads/${id}/adjustments`, {
      key: ADMIN_TOKEN,
      headers: { 'idempotency-key': `adj-${id}` },
      body: { party: 'source', partyId: source.id, amount: '1.5', note: 'goodwill' },
    });
    expect(replayed).toMatchObject({ status: 200, body: { id: adjustment.body.id, leadId: id } });

    ledger = await entries(id);
    expect(ledger.map((e) => [e.party, e.kind, e.amount])).toEqual([
      ['partner', 'sale', 12.5],
      ['source', 'sale', 6.25],
      ['partner', 'conversion', 40],
      ['source', 'conversion', 20],
      ['partner', 'return', -12.5],
      ['source', 'return', -6.25],
      ['partner', 'reversal', -40],
      ['source', 'reversal', -20],
      ['source', 'adjustment', 1.5],
    ]);
    expect(new Set(ledger.map((e) => e.leadId))).toEqual(new Set([id]));
    const view = await adminView(id);
    const sum = (party: string) =>
      sumAmounts(ledger.filter((e) => e.party === party).map((e) => amount(String(e.amount)))).toString();
    expect({ revenue: String(view.money.revenue), cost: String(view.money.cost) }).toEqual({
      revenue: sum('partner'),
      cost: sum('source'),
    });
    expect(view.money).toMatchObject({ revenue: 0, cost: 1.5, margin: -1.5 });
    // The partner's own reference (from its answer) is on the accepted attempt of the admin's view and its story.
    expect(view.deliveries).toEqual([expect.objectContaining({ outcome: 'accepted', reference })]);
    // The operators' story of the lead has the same money, its feedback as received and its return.
    const story = (await stack.admin('GET', `/leads/${id}`)).body;
    expect(story.money).toEqual(view.money);
    expect(story.feedback.map((f: { event: string; outcome: string }) => [f.event, f.outcome])).toEqual([
      ['converted', 'converted'],
      ['returned', 'return_pending'],
      ['reversed', 'reversed'],
    ]);
    expect(story.deliveries).toEqual([expect.objectContaining({ status: 'accepted', reference })]);
    expect(story.returns).toEqual([expect.objectContaining({ id: pending.id, status: 'approved' })]);
    // The rollups (the ledger's trigger appends deltas, the worker's fold adds them) agree with the ledger.
    await stack.db.$queryRaw`SELECT report_fold(1000000)`;
    const [rollup] = await stack.db.$queryRaw<{ revenue: string; cost: string }[]>`
      SELECT sum(revenue)::text AS revenue, sum(cost)::text AS cost FROM report_daily WHERE source_id = ${source.id}::uuid`;
    expect(rollup).toEqual({ revenue: '0.0000', cost: '1.5000' });

    // The source sees what it earns, and nothing of the partner.
    const sourceView = await stack.request('GET', `/v1/leads/${id}`, { key: source.apiKey });
    expect(sourceView.body.payout).toBe(1.5);
    // Why it came back, in its terms: the return's reason (not the reversal's, nor anything of the buyer).
    expect(sourceView.body).toMatchObject({ status: 'returned', reason: 'disconnected number' });
    expect(sourceView.body).not.toHaveProperty('money');
    const text = JSON.stringify(sourceView.body);
    for (const secret of [partner.name, partner.id, reference, '"40', 'chargeback']) expect(text).not.toContain(secret);
    // The partner's price as any value of the view (a number, or an exact decimal string): not a substring, which a
    // timestamp's seconds (…:12.566Z) would match.
    expect(leafValues(sourceView.body).filter((v) => Number(v) === 12.5)).toEqual([]);

    // The postbacks, in the source's terms: its own payout, signed; a return's reason; no partner, no price.
    await waitFor(() => postbacksOf(id).length === 4, { what: 'four postbacks' });
    const byStatus = Object.fromEntries(postbacksOf(id).map((p) => [p.status, p]));
    expect(Object.keys(byStatus).sort()).toEqual(['converted', 'delivered', 'returned', 'reversed']);
    expect(byStatus.delivered).toMatchObject({ payout: 6.25 });
    expect(byStatus.converted).toMatchObject({ payout: 20 });
    expect(byStatus.returned).toMatchObject({ payout: -6.25, reason: 'disconnected number' });
    expect(byStatus.reversed).toMatchObject({ payout: -20, reason: 'chargeback' });
    for (const p of postbacksOf(id)) {
      expect(Object.keys(p).sort()).toEqual(expect.arrayContaining(['at', 'id', 'status']));
      for (const key of Object.keys(p)) expect(['id', 'status', 'payout', 'reason', 'at']).toContain(key);
      expect(JSON.stringify(p)).not.toContain(partner.name);
    }
  });

  it('a shared lead stays delivered while one buyer keeps it; cpl is paid once and clawed back with the last return', async () => {
    const source = await stack.createSource({ payout: { model: 'cpl', amount: 5, geo: { CA: '6.5' } } });
    const { body } = await stack.request('POST', '/v1/leads', { key: source.apiKey, body: lead({ geo: 'CA' }) });
    const id = body.id as string;
    await delivered(id);
    const ledger = await entries(id);
    expect(ledger.map((e) => [e.party, e.kind, e.amount]).sort()).toEqual(
      [
        ['partner', 'sale', 12.5],
        ['partner', 'sale', 7.25],
        ['source', 'sale', 6.5],
      ].sort(),
    );
    // The second buyer returns it: approved at once (its autoApprove); the first keeps it.
    const r1 = await feedback(other.feedbackKey, { leadId: id, event: 'returned', reason: 'duplicate' });
    expect(r1.body).toEqual({ status: 'recorded', outcome: 'returned' });
    expect(await stack.leadStatus(id)).toBe('delivered');
    expect((await entries(id)).filter((e) => e.party === 'source').map((e) => e.amount)).toEqual([6.5]);
    // The first buyer's return, filed by an operator: now every buyer returned it, and the cpl comes back.
    const filed = await stack.admin('POST', `/leads/${id}/returns`, {
      partnerId: partner.id,
      reason: 'asked by email',
    });
    expect(filed).toMatchObject({ status: 201, body: { status: 'approved', filedVia: 'operator', amount: 12.5 } });
    expect((await stack.admin('POST', `/leads/${id}/returns`, { partnerId: partner.id, reason: 'again' })).status).toBe(
      409,
    );
    expect(await stack.leadStatus(id)).toBe('returned');
    expect((await entries(id)).filter((e) => e.party === 'source').map((e) => e.amount)).toEqual([6.5, -6.5]);
    expect((await adminView(id)).money).toMatchObject({ revenue: 0, cost: 0, margin: 0 });
  });

  it('feedback sent twice, and at once through two ingest processes, is written once', async () => {
    const source = await stack.createSource({ payout: { model: 'cpa', amount: 30 } });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { body } = await stack.request('POST', '/v1/leads', { key: source.apiKey, body: lead() });
      ids.push(body.id);
    }
    for (const id of ids) await delivered(id);
    const [a, b, c] = ids as [string, string, string];

    // The same eventId again: a duplicate.
    const first = await feedback(partner.feedbackKey, { leadId: a, event: 'converted', eventId: 'same-event' });
    const again = await feedback(partner.feedbackKey, { leadId: a, event: 'converted', eventId: 'same-event' });
    expect([first.status, again.status]).toEqual([202, 200]);
    expect(again.body).toEqual({ status: 'duplicate' });

    // Two ingest processes, 40 requests at once: conversions of `b` (some with one eventId, some with others,
    // some with none) and auto-approved-style returns of `c`... each written once.
    const ingest2 = await new ServiceProcess('ingest', stack.env()).start();
    try {
      const urls = [stack.url, ingest2.url];
      const send = (i: number, event: Record<string, unknown>) =>
        fetch(`${urls[i % 2]}/v1/feedback`, {
          method: 'POST',
          headers: { authorization: `Bearer ${partner.feedbackKey}`, 'content-type': 'application/json' },
          body: JSON.stringify(event),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as { status: string } }));
      const answers = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          i % 2 === 0
            ? send(i, { leadId: b, event: 'converted', ...(i % 4 === 0 ? { eventId: `b-${i % 8}` } : {}) })
            : send(i, { leadId: c, event: 'status', status: 'Deposit', eventId: `c-${i}` }),
        ),
      );
      expect(answers.every((r) => r.status === 202 || r.status === 200)).toBe(true);
      const bAnswers = answers.filter((_, i) => i % 2 === 0);
      expect(bAnswers.filter((r) => r.status === 202)).toHaveLength(1);
    } finally {
      await ingest2.stop();
    }
    for (const id of [a, b, c]) {
      const conv = (await entries(id)).filter((e) => e.kind === 'conversion');
      expect(conv.map((e) => [e.party, e.amount])).toEqual([
        ['partner', 40],
        ['source', 30],
      ]);
      expect(await stack.leadStatus(id)).toBe('converted');
    }
    // Every event with an eventId is recorded once, whatever it did.
    const rows = await stack.db.feedbackEvent.groupBy({
      by: ['eventId'],
      where: { leadId: { in: ids } },
      _count: true,
    });
    expect(rows.filter((r) => r.eventId !== null && r._count !== 1)).toEqual([]);
  });

  it('out of order: a reversal before its conversion waits for it; a status older than the last one changes nothing', async () => {
    const source = await stack.createSource({ postbackUrl: affiliate.url, payout: { model: 'cpa', amount: 25 } });
    const { body } = await stack.request('POST', '/v1/leads', { key: source.apiKey, body: lead() });
    const id = body.id as string;
    await delivered(id);
    const t = (s: number) => new Date(Date.now() - 60_000 + s * 1000).toISOString();

    const early = await feedback(partner.feedbackKey, {
      leadId: id,
      event: 'reversed',
      at: t(3),
      eventId: `rev-${id}`,
    });
    expect(early.body).toEqual({ status: 'recorded', outcome: 'awaiting_conversion' });
    expect((await entries(id)).filter((e) => e.kind !== 'sale')).toEqual([]);
    const conv = await feedback(partner.feedbackKey, { leadId: id, event: 'converted', at: t(1), amount: 50 });
    expect(conv.body).toEqual({ status: 'recorded', outcome: 'converted' });
    expect((await entries(id)).map((e) => [e.party, e.kind, e.amount])).toEqual([
      ['partner', 'sale', 12.5],
      ['partner', 'conversion', 50],
      ['source', 'conversion', 25],
      ['partner', 'reversal', -50],
      ['source', 'reversal', -25],
    ]);
    expect(await stack.leadStatus(id)).toBe('delivered');
    await waitFor(() => postbacksOf(id).length === 3, { what: 'delivered, converted and reversed postbacks' });
    expect(
      postbacksOf(id)
        .map((p) => [p.status, p.payout ?? null])
        .sort(),
    ).toEqual(
      [
        ['converted', 25],
        ['delivered', null],
        ['reversed', -25],
      ].sort(),
    );

    // Statuses: the newer one arrives first; the older one is stale.
    const { body: second } = await stack.request('POST', '/v1/leads', { key: source.apiKey, body: lead() });
    await delivered(second.id);
    const deposit = await feedback(partner.feedbackKey, {
      leadId: second.id,
      event: 'status',
      status: 'DEPOSIT',
      at: t(10),
    });
    expect(deposit.body.outcome).toBe('converted');
    const stale = await feedback(partner.feedbackKey, { leadId: second.id, event: 'status', status: 'new', at: t(5) });
    expect(stale.body.outcome).toBe('stale');
    const same = await feedback(partner.feedbackKey, {
      leadId: second.id,
      event: 'status',
      status: 'Deposit',
      at: t(11),
    });
    expect(same.body.outcome).toBe('unchanged');
    const unmapped = await feedback(partner.feedbackKey, {
      leadId: second.id,
      event: 'status',
      status: 'Active trader',
    });
    expect(unmapped.body.outcome).toBe('unmapped');
    expect(await stack.leadStatus(second.id)).toBe('converted');
    const chargeback = await feedback(partner.feedbackKey, {
      leadId: second.id,
      event: 'status',
      status: 'chargeback',
    });
    expect(chargeback.body.outcome).toBe('reversed');
    expect(await stack.leadStatus(second.id)).toBe('delivered');
  });

  it('a batch is answered event by event, in order; a return outside the window, or from a partner without returns, is a 422', async () => {
    const source = await stack.createSource();
    const { body } = await stack.request('POST', '/v1/leads', { key: source.apiKey, body: lead() });
    await delivered(body.id);
    const batch = await feedback(partner.feedbackKey, {
      events: [
        { leadId: body.id, event: 'converted', eventId: `batch-${body.id}` },
        { leadId: body.id, event: 'converted', eventId: `batch-${body.id}` },
        { leadId: randomUUID(), event: 'converted' },
        { reference: 'nobody', event: 'returned' },
        { event: 'status', amount: 0.00001, at: 'yesterday' },
      ],
    });
    expect(batch.status).toBe(207);
    expect(batch.body.results.map((r: { status: string; httpStatus?: number }) => [r.status, r.httpStatus])).toEqual([
      ['recorded', undefined],
      ['duplicate', undefined],
      ['rejected', 404],
      ['rejected', 404],
      ['rejected', 422],
    ]);
    expect(batch.body.results[4].errors.map((e: { field: string }) => e.field).sort()).toEqual([
      '/events/4/amount',
      '/events/4/at',
      '/events/4/leadId',
      '/events/4/status',
    ]);
    expect((await feedback(partner.feedbackKey, { events: [] })).status).toBe(422);

    // A sale 31 days old (its partner line written then), with a window of 30 days.
    const old = await stack.db.lead.create({
      data: { sourceId: source.id, name: 'Old', phone: '+14155550999', status: 'delivered', geo: 'US' },
    });
    const sale = await stack.db.delivery.create({
      data: { leadId: old.id, partnerId: partner.id, status: 'accepted', attempts: 1, price: 9 },
    });
    await stack.db
      .$executeRaw`INSERT INTO ledger_entries (lead_id, party, party_id, kind, amount, delivery_id, event_id, at)
      VALUES (${old.id}::uuid, 'partner', ${partner.id}::uuid, 'sale', 9, ${sale.id}::uuid, ${sale.id}::uuid,
              now() - interval '31 days')`;
    const late = await feedback(partner.feedbackKey, { leadId: old.id, event: 'returned', reason: 'too late' });
    expect(late.status).toBe(422);
    expect(late.body.errors[0].message).toMatch(/outside the returns window: 30 days/);
    expect(await stack.db.leadReturn.count({ where: { leadId: old.id } })).toBe(0);
    // Still converted fine: a conversion has no window.
    expect((await feedback(partner.feedbackKey, { leadId: old.id, event: 'converted' })).status).toBe(202);

    // No returns at all for this partner.
    await stack.admin('PATCH', `/partners/${other.id}`, { returns: { windowDays: 0 } });
    const { body: shared } = await stack.request('POST', '/v1/leads', {
      key: source.apiKey,
      body: lead({ geo: 'CA' }),
    });
    await delivered(shared.id);
    const none = await feedback(other.feedbackKey, { leadId: shared.id, event: 'returned' });
    expect(none.status).toBe(422);
    expect(none.body.errors[0].message).toBe('returns are not allowed for this partner');
    await stack.admin('PATCH', `/partners/${other.id}`, { returns: { windowDays: 30 } });
  });

  it('a partner sees only its own leads, and never the source; keys do not cross', async () => {
    const source = await stack.createSource();
    const { body } = await stack.request('POST', '/v1/leads', { key: source.apiKey, body: lead() });
    await delivered(body.id);
    // `other` did not buy it: the same 404 as a lead that does not exist.
    const notYours = await feedback(other.feedbackKey, { leadId: body.id, event: 'converted' });
    const unknown = await feedback(other.feedbackKey, { leadId: randomUUID(), event: 'converted' });
    expect(notYours).toMatchObject({ status: 404 });
    expect(notYours.body).toEqual(unknown.body);
    // Answers name nothing of the source.
    const ok = await feedback(partner.feedbackKey, { leadId: body.id, event: 'converted' });
    expect(Object.keys(ok.body).sort()).toEqual(['outcome', 'status']);
    // A source key is no feedback key, a feedback key no source key.
    expect((await feedback(source.apiKey, { leadId: body.id, event: 'converted' })).status).toBe(401);
    expect((await stack.request('GET', `/v1/leads/${body.id}`, { key: partner.feedbackKey })).status).toBe(401);
    // A rotated key stops at once.
    const rotated = await stack.admin('POST', `/partners/${other.id}/rotate-feedback-key`);
    expect(rotated.body.feedbackKey).toMatch(/^lrf_/);
    expect((await feedback(other.feedbackKey, { leadId: randomUUID(), event: 'converted' })).status).toBe(401);
    other.feedbackKey = rotated.body.feedbackKey;
    expect((await feedback(other.feedbackKey, { leadId: randomUUID(), event: 'converted' })).status).toBe(404);
  });

  it('a source paid nothing gets its postbacks without a payout; one whose payout is not clawed back gets 0', async () => {
    const unpaid = await stack.createSource({ postbackUrl: affiliate.url });
    const { body: a } = await stack.request('POST', '/v1/leads', { key: unpaid.apiKey, body: lead() });
    await delivered(a.id);
    await feedback(partner.feedbackKey, { leadId: a.id, event: 'converted' });
    await waitFor(() => postbacksOf(a.id).length === 2, { what: 'delivered and converted postbacks' });
    for (const p of postbacksOf(a.id)) expect(p).not.toHaveProperty('payout');

    const kept = await stack.createSource({
      postbackUrl: affiliate.url,
      payout: { model: 'cpl', amount: 3 },
      clawback: false,
    });
    const { body: b } = await stack.request('POST', '/v1/leads', { key: kept.apiKey, body: lead() });
    await delivered(b.id);
    const filed = await stack.admin('POST', `/leads/${b.id}/returns`, { partnerId: partner.id, reason: 'bad data' });
    expect(filed.status).toBe(201);
    await waitFor(() => postbacksOf(b.id).length === 2, { what: 'delivered and returned postbacks' });
    expect(
      postbacksOf(b.id)
        .map((p) => [p.status, p.payout])
        .sort(),
    ).toEqual([
      ['delivered', 3],
      ['returned', 0],
    ]);
    expect((await stack.request('GET', `/v1/leads/${b.id}`, { key: kept.apiKey })).body.payout).toBe(3);
  });

  it('a postback written with its event is sent even when nothing enqueued it (a crash between the commit and the enqueue)', async () => {
    const source = await stack.createSource({ postbackUrl: affiliate.url, payout: { model: 'cpa', amount: 12 } });
    const { body } = await stack.request('POST', '/v1/leads', { key: source.apiKey, body: lead() });
    await delivered(body.id);
    await waitFor(() => postbacksOf(body.id).length === 1, { what: 'the delivered postback' });
    // The use case commits the event and its postback; its caller "dies" before enqueueing the job.
    const [row] = await runStatement(sqlPool(stack.db), PARTNER_BY_FEEDBACK_KEY, {
      hash: hashApiKey(partner.feedbackKey),
    });
    const result = await recordFeedback({ db: stack.db }, feedbackPartnerOf(row!), {
      lead: { leadId: body.id },
      event: 'converted',
      status: null,
      amount: null,
      reason: null,
      eventId: null,
      at: null,
    });
    expect(result.postbacks).toHaveLength(1);
    expect(await stack.db.postback.findUniqueOrThrow({ where: { id: result.postbacks[0]!.postbackId } })).toMatchObject(
      {
        status: 'pending',
        event: 'converted',
      },
    );
    // The worker's sweeper, once the postback is overdue, puts it on the queue; the worker sends it.
    const later = new Date(Date.now() + 60_000);
    await sweep({ ...stack.directWorkerDeps({ now: () => later }) });
    await waitFor(() => postbacksOf(body.id).length === 2, { what: 'the converted postback' });
    expect(postbacksOf(body.id).find((p) => p.status === 'converted')).toMatchObject({ payout: 12 });
  });
});

/** Every number and string in a JSON value, at any depth. */
function leafValues(value: unknown): (string | number)[] {
  if (typeof value === 'string' || typeof value === 'number') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(leafValues);
  return [];
}
