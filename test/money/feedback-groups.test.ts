import { hashApiKey } from '@leadrouter/core';
import { PARTNER_BY_FEEDBACK_KEY, runStatement, sqlPool, SqlTransactionGroups } from '@leadrouter/db';
import { feedbackPartnerOf, recordFeedback, type FeedbackInput, type FeedbackPartner } from '@leadrouter/lifecycle';
import { amount } from '@leadrouter/money';
import { FakePartner } from '../support/partner';
import { ledgerSums, rollupFigures } from '../support/rollups';
import { sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

// Group commit of partner feedback (ADR 0026 "Group commit"), on real PostgreSQL: events of different leads
// recorded at the same time share one transaction and one commit, each still recorded exactly once; a member
// whose statement fails abandons the group and every member runs again alone, so nothing of the others is lost
// or written twice; a batch records one lead's events in its order while other leads' run beside them.

describe('feedback recorded in groups', () => {
  const stack = new TestStack();
  let buyer: FakePartner;
  let partner: { id: string; feedbackKey: string };
  let feedbackPartner: FeedbackPartner;
  let source: { id: string; apiKey: string };
  let phones = 0;
  let refs = 0;

  /** Leads sold to the buyer (delivered, with their sale's line), of `from` (default: the test's source). */
  const sold = async (n: number, from: { apiKey: string } = source): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const { body } = await stack.request('POST', '/v1/leads', {
        key: from.apiKey,
        body: sampleLead({
          phone: `+1 415 556 ${String(1000 + ++phones).padStart(4, '0')}`,
          email: `groups${phones}@example.com`,
        }),
      });
      ids.push(body.id as string);
    }
    for (const id of ids)
      await waitFor(async () => (await stack.leadStatus(id)) === 'delivered', { what: `lead ${id} delivered` });
    return ids;
  };
  const conversion = (leadId: string, eventId: string): FeedbackInput => ({
    lead: { leadId },
    event: 'converted',
    status: null,
    amount: null,
    reason: null,
    eventId,
    at: null,
  });
  /** The leads' ledger lines other than their sales, as `lead party kind amount`, sorted. */
  const moneyLines = async (ids: string[]) =>
    (
      await stack.db.ledgerEntry.findMany({
        where: { leadId: { in: ids }, kind: { not: 'sale' } },
        select: { leadId: true, party: true, kind: true, amount: true },
      })
    )
      .map((e) => `${e.leadId} ${e.party} ${e.kind} ${e.amount.toString()}`)
      .sort();
  const converted = (ids: string[]) =>
    ids.flatMap((id) => [`${id} partner conversion 40`, `${id} source conversion 30`]).sort();
  /**
   * How many statements wrote the leads' lines other than their sales: rows one statement inserted share its
   * transaction (xmin) and its command id in it (cmin; a ledger row is never updated or deleted). The ledger's
   * rollup trigger is a statement trigger: it ran as many times.
   */
  const ledgerInserts = async (ids: string[]) => {
    const [row] = await stack.db.$queryRaw<{ n: number }[]>`
      SELECT count(DISTINCT (xmin::text, cmin::text))::int AS n FROM ledger_entries
      WHERE lead_id = ANY(${ids}::uuid[]) AND kind <> 'sale'`;
    return row!.n;
  };
  /** How many transactions committed the events with these ids (rows one transaction wrote share its xmin). */
  const commitsOf = async (eventIds: string[]) => {
    const [row] = await stack.db.$queryRaw<{ n: number }[]>`
      SELECT count(DISTINCT xmin::text)::int AS n FROM feedback_events WHERE event_id = ANY(${eventIds})`;
    return row!.n;
  };

  beforeAll(async () => {
    await stack.start();
    buyer = await new FakePartner(() => ({ status: 200, body: { ok: true, ref: `G-${++refs}` } })).start();
    partner = await stack.createPartner({
      url: buyer.url,
      name: 'grouped-buyer',
      responseMap: { reference: 'ref' },
      price: 9,
      conversionPrice: 40,
    });
    source = await stack.createSource({ payout: { model: 'cpa', amount: 30 } });
    await stack.createRoute({ name: 'groups', priority: 10, partners: [{ partnerId: partner.id }] });
    const [row] = await runStatement(sqlPool(stack.db), PARTNER_BY_FEEDBACK_KEY, {
      hash: hashApiKey(partner.feedbackKey),
    });
    feedbackPartner = feedbackPartnerOf(row!);
  });
  afterAll(async () => {
    await buyer.stop();
    await stack.stop();
  });

  it('events of different leads sent at once share one commit, each recorded once; their repeats are duplicates', async () => {
    const ids = await sold(10);
    // One group at a time: the first event runs alone, the nine others wait for it and then share a transaction
    // (with the first event's repeat); the other repeats share the next.
    const transactions = new SqlTransactionGroups(sqlPool(stack.db), { maxInFlight: 1, maxMembers: 32 });
    const deps = { db: stack.db, transactions };
    const all = [...ids, ...ids].map((id) => recordFeedback(deps, feedbackPartner, conversion(id, `once-${id}`)));
    const answers = (await Promise.all(all)).map((r) => r.answer.httpStatus);
    expect(answers).toEqual([...ids.map(() => 202), ...ids.map(() => 200)]);
    expect(await commitsOf(ids.map((id) => `once-${id}`))).toBe(2);
    // The first event's lines, then the nine others' in one INSERT: the rollup trigger ran twice, not ten times.
    expect(await ledgerInserts(ids)).toBe(2);
    expect(await moneyLines(ids)).toEqual(converted(ids));
    expect(await stack.db.feedbackEvent.count({ where: { leadId: { in: ids } } })).toBe(10);
    for (const id of ids) expect(await stack.leadStatus(id)).toBe('converted');
  });

  it('a group’s lines make exactly the rollups its events make one by one', async () => {
    // Two sources with the same terms and the same events: one's recorded in groups (conversions of odd amounts,
    // and a conversion with the reversal that was waiting for it, two entries' times in one event), the other's
    // one at a time. Their report figures — the ledger's trigger's deltas, folded — are the same, and the ledger's.
    const payout = { payout: { model: 'revshare', percent: 33.3333 } };
    const grouped = await stack.createSource(payout);
    const alone = await stack.createSource(payout);
    const n = 8;
    const [groupedIds, aloneIds] = [await sold(n, grouped), await sold(n, alone)];
    const events = (ids: string[], tag: string): FeedbackInput[][] => [
      ids.map((id, i) => ({
        ...conversion(id, `${tag}-c-${i}`),
        ...(i % 2 === 0 ? { event: 'reversed' as const, eventId: `${tag}-r-${i}` } : {}),
      })),
      ids.map((id, i) => ({
        ...conversion(id, `${tag}-c2-${i}`),
        amount: amount(
          `${17 + i}.${String(1234 * (i + 1))
            .padStart(4, '0')
            .slice(-4)}`,
        ),
      })),
    ];
    const transactions = new SqlTransactionGroups(sqlPool(stack.db), { maxInFlight: 1, maxMembers: 32 });
    for (const step of events(groupedIds, 'grouped'))
      await Promise.all(step.map((e) => recordFeedback({ db: stack.db, transactions }, feedbackPartner, e)));
    for (const step of events(aloneIds, 'alone'))
      for (const e of step) await recordFeedback({ db: stack.db }, feedbackPartner, e);
    // Alone, one INSERT an event that writes lines (a conversion and its waiting reversal together); in groups,
    // the first event of each step alone (the group waits for it) and the others' in one.
    expect(await ledgerInserts(aloneIds)).toBe(n);
    expect(await ledgerInserts(groupedIds)).toBe(3);

    await stack.db.$queryRaw`SELECT report_fold(1000000)`;
    const figures = (sourceId: string) =>
      rollupFigures(stack.db, sourceId, partner.id, ['sold', 'converted', 'reversed', 'revenue', 'cost']);
    const ledger = (ids: string[]) => ledgerSums(stack.db, ids);
    const byGroups = await figures(grouped.id);
    expect(byGroups).toEqual(await figures(alone.id));
    expect(byGroups.daily).toEqual({
      sold: `${n}`,
      converted: `${n}`,
      reversed: `${n / 2}`,
      ...(await ledger(groupedIds)),
    });
    expect(await ledger(groupedIds)).toEqual(await ledger(aloneIds));
  });

  it('an event whose statement fails abandons its group: the others are recorded once each, alone', async () => {
    const ids = await sold(10);
    const boom = ids[5]!;
    await stack.db.$executeRawUnsafe(`
      CREATE FUNCTION test_feedback_boom() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.event_id = 'boom' THEN RAISE EXCEPTION 'boom: refused by the test'; END IF;
        RETURN NEW;
      END $$`);
    await stack.db.$executeRawUnsafe(
      `CREATE TRIGGER test_feedback_boom BEFORE INSERT ON feedback_events FOR EACH ROW EXECUTE FUNCTION test_feedback_boom()`,
    );
    try {
      const transactions = new SqlTransactionGroups(sqlPool(stack.db), { maxInFlight: 1, maxMembers: 32 });
      const deps = { db: stack.db, transactions };
      const settled = await Promise.allSettled(
        ids.map((id) => recordFeedback(deps, feedbackPartner, conversion(id, id === boom ? 'boom' : `alone-${id}`))),
      );
      const others = ids.filter((id) => id !== boom);
      expect(settled.map((s) => (s.status === 'fulfilled' ? s.value.answer.httpStatus : 'failed'))).toEqual(
        ids.map((id) => (id === boom ? 'failed' : 202)),
      );
      expect((settled[5] as PromiseRejectedResult).reason).toMatchObject({ message: 'boom: refused by the test' });
      // The nine were in the abandoned group with it, then ran alone: nine commits, nothing twice, nothing lost.
      expect(await commitsOf(others.map((id) => `alone-${id}`))).toBe(9);
      expect(await moneyLines(ids)).toEqual(converted(others));
      expect(await stack.db.feedbackEvent.count({ where: { leadId: { in: ids } } })).toBe(9);
      expect(await stack.leadStatus(boom)).toBe('delivered');
    } finally {
      await stack.db.$executeRawUnsafe('DROP TRIGGER test_feedback_boom ON feedback_events');
      await stack.db.$executeRawUnsafe('DROP FUNCTION test_feedback_boom()');
    }
  });

  it('a batch records one lead’s events in its order (by id or by reference) while other leads’ run beside them', async () => {
    const ids = await sold(6);
    const references = new Map(
      (
        await stack.db.delivery.findMany({ where: { leadId: { in: ids } }, select: { leadId: true, reference: true } })
      ).map((d) => [d.leadId, d.reference!]),
    );
    // Each lead converted then reversed (the reversal naming it by the buyer's reference), interleaved; and one
    // eventId sent for two leads: one event, recorded once.
    const [x, y] = ids as [string, string];
    const events = [
      ...ids.map((id) => ({ leadId: id, event: 'converted', eventId: `b-c-${id}` })),
      ...ids.map((id) => ({ reference: references.get(id), event: 'reversed', eventId: `b-r-${id}` })),
      { leadId: x, event: 'status', status: 'whatever', eventId: 'shared-id' },
      { leadId: y, event: 'status', status: 'whatever', eventId: 'shared-id' },
    ];
    const { status, body } = await stack.request('POST', '/v1/feedback', {
      key: partner.feedbackKey,
      body: { events },
    });
    expect(status).toBe(207);
    const results = (body.results as { status: string; outcome?: string }[]).map((r) => r.outcome ?? r.status);
    expect(results.slice(0, 12)).toEqual([...ids.map(() => 'converted'), ...ids.map(() => 'reversed')]);
    expect(results.slice(12).sort()).toEqual(['duplicate', 'unmapped']);
    expect(await stack.db.feedbackEvent.count({ where: { eventId: 'shared-id' } })).toBe(1);
    expect(await moneyLines(ids)).toEqual(
      ids
        .flatMap((id) => [
          `${id} partner conversion 40`,
          `${id} source conversion 30`,
          `${id} partner reversal -40`,
          `${id} source reversal -30`,
        ])
        .sort(),
    );
    for (const id of ids) expect(await stack.leadStatus(id)).toBe('delivered');
  });

  it('references of a batch are found in one statement: one sale each, a reference two sales share is a 422, none a 404', async () => {
    const [a, b, c] = (await sold(3)) as [string, string, string];
    await stack.db.delivery.updateMany({ where: { leadId: { in: [b, c] } }, data: { reference: 'shared-ref' } });
    const refA = (await stack.db.delivery.findFirstOrThrow({ where: { leadId: a } })).reference!;
    const { status, body } = await stack.request('POST', '/v1/feedback', {
      key: partner.feedbackKey,
      body: {
        events: [
          { reference: 'shared-ref', event: 'converted' },
          { reference: refA, event: 'converted' },
          { reference: 'nobody-has-it', event: 'converted' },
        ],
      },
    });
    expect(status).toBe(207);
    expect(body.results).toEqual([
      expect.objectContaining({
        status: 'rejected',
        httpStatus: 422,
        errors: [{ field: '/reference', message: 'names more than one of your leads: send the `leadId`' }],
      }),
      { status: 'recorded', outcome: 'converted' },
      expect.objectContaining({ status: 'rejected', httpStatus: 404 }),
    ]);
    const single = await stack.request('POST', '/v1/feedback', {
      key: partner.feedbackKey,
      body: { reference: 'shared-ref', event: 'converted' },
    });
    expect(single.status).toBe(422);
    expect(await moneyLines([a, b, c])).toEqual(converted([a]));
  });
});
