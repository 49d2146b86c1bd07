// Every row that belongs to a lead holds the lead's created_at (ADR 0035 Decision 5): written by the statements
// themselves (a partitioned table will route a row by it before any trigger runs), and filled in the rows written
// before the column existed by the housekeeping's backfill — the ledger's through its one narrow exception.
import { BACKFILLED_TABLES, backfillLeadCreatedAt, LEAD_CHILD_TABLES } from '../../services/worker/src/housekeeping';
import { Fixtures } from '../support/fixtures';
import { FakePartner } from '../support/partner';
import { ADMIN_TOKEN, sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

/**
 * The triggers that fill `lead_created_at` when a statement leaves it out (prisma/hand-written/lead-created-at.sql): the
 * tables not partitioned by it yet (lead_events and delivery_attempts are: they refuse a row without it).
 */
const setFillTriggers = (stack: TestStack, on: boolean) =>
  Promise.all(
    BACKFILLED_TABLES.map((table) =>
      stack.db.$executeRawUnsafe(`ALTER TABLE ${table} ${on ? 'ENABLE' : 'DISABLE'} TRIGGER ${table}_lead_created_at`),
    ),
  );

/** Per table, the rows of these leads: how many, how many without `lead_created_at`, how many with another than the lead's. */
async function childRows(stack: TestStack, leadIds: string[]) {
  const counts: Record<string, { rows: number; missing: number; wrong: number }> = {};
  for (const table of LEAD_CHILD_TABLES) {
    const lead =
      table === 'delivery_attempts'
        ? 'JOIN deliveries d ON d.id = c.delivery_id JOIN leads l ON l.id = d.lead_id'
        : 'JOIN leads l ON l.id = c.lead_id';
    const [row] = await stack.db.$queryRawUnsafe<{ rows: number; missing: number; wrong: number }[]>(
      `SELECT count(*)::int AS rows, count(*) FILTER (WHERE c.lead_created_at IS NULL)::int AS missing,
              count(*) FILTER (WHERE c.lead_created_at <> l.created_at)::int AS wrong
       FROM ${table} c ${lead} WHERE l.id = ANY ($1::uuid[])`,
      leadIds,
    );
    counts[table] = row!;
  }
  return counts;
}

describe('lead_created_at', () => {
  const stack = new TestStack();
  let buyer: FakePartner;
  let affiliate: FakePartner;

  beforeAll(async () => {
    await stack.start();
    buyer = await new FakePartner(() => ({ status: 200, body: { ok: true, price: '12.5', ref: 'B-1' } })).start();
    affiliate = await new FakePartner(() => ({ status: 204 })).start();
  });
  afterAll(async () => {
    await setFillTriggers(stack, true);
    await buyer.stop();
    await affiliate.stop();
    await stack.stop();
  });

  it('is written by every statement of a lead’s life, with no trigger to fill it', async () => {
    await setFillTriggers(stack, false);
    try {
      const source = await stack.createSource({
        postbackUrl: affiliate.url,
        payout: { model: 'revshare', percent: 50 },
      });
      const partner = await stack.createPartner({
        url: buyer.url,
        responseMap: { price: 'price', reference: 'ref' },
        conversionPrice: 40,
        returns: { windowDays: 30, autoApprove: false },
      });
      await stack.createRoute({ name: 'all', priority: 1, partners: [{ partnerId: partner.id }] });
      const posted = await stack.request('POST', '/v1/leads', {
        key: source.apiKey,
        headers: { 'idempotency-key': 'whole-life' },
        body: sampleLead({ phone: '+1 415 555 7001', email: 'whole.life@example.com' }),
      });
      expect(posted.status).toBe(202);
      const id = posted.body.id as string;
      await waitFor(async () => (await stack.leadStatus(id)) === 'delivered', { what: 'the lead delivered' });
      const feedback = (body: unknown) => stack.request('POST', '/v1/feedback', { key: partner.feedbackKey, body });
      expect((await feedback({ leadId: id, event: 'converted', amount: 40, eventId: `c-${id}` })).status).toBe(202);
      expect(
        (await feedback({ leadId: id, event: 'returned', reason: 'wrong number', eventId: `r-${id}` })).status,
      ).toBe(202);
      const adjusted = await stack.request('POST', `/v1/admin/leads/${id}/adjustments`, {
        key: ADMIN_TOKEN,
        body: { party: 'source', partyId: source.id, amount: '1.5', note: 'goodwill' },
      });
      expect(adjusted.status).toBe(201);
      await waitFor(async () => (await stack.db.postback.count({ where: { leadId: id } })) >= 2, {
        what: 'the postbacks written',
      });
      const erased = await stack.request('DELETE', `/v1/admin/leads/${id}/personal-data`, {
        key: ADMIN_TOKEN,
        body: { reason: 'asked' },
      });
      expect(erased.status).toBe(200);

      const rows = await childRows(stack, [id]);
      // Each table has rows of this lead (so the check reaches every statement that wrote one), none without it.
      for (const table of LEAD_CHILD_TABLES)
        expect({ table, ...rows[table] }).toEqual({
          table,
          rows: expect.any(Number),
          missing: 0,
          wrong: 0,
        });
      for (const table of LEAD_CHILD_TABLES)
        expect({ table, some: rows[table]!.rows > 0 }).toEqual({ table, some: true });
    } finally {
      await setFillTriggers(stack, true);
    }
  });

  it('is filled in the rows of before by the housekeeping, in batches, the ledger’s money untouched', async () => {
    const fx = new Fixtures(stack.db);
    const source = await fx.source();
    const partner = await fx.partner();
    const createdAt = new Date('2025-03-14T09:26:53.589Z');
    const leads = await Promise.all(
      [1, 2, 3].map(() => fx.lead({ sourceId: source.id, status: 'delivered', createdAt })),
    );
    const ids = leads.map((l) => l.id);
    // Rows as the previous version wrote them: no lead_created_at.
    await setFillTriggers(stack, false);
    try {
      for (const lead of leads) {
        const d = await fx.delivery({ leadId: lead.id, partnerId: partner.id, status: 'accepted' });
        await stack.db
          .$executeRaw`INSERT INTO ledger_entries (id, lead_id, party, party_id, kind, amount, delivery_id, event_id)
          VALUES (gen_random_uuid(), ${lead.id}::uuid, 'partner', ${partner.id}::uuid, 'sale', 12.5, ${d.id}::uuid, ${d.id}::uuid),
                 (gen_random_uuid(), ${lead.id}::uuid, 'source', ${source.id}::uuid, 'sale', -6.25, ${d.id}::uuid, ${d.id}::uuid)`;
        await stack.db.$executeRaw`INSERT INTO feedback_events (partner_id, lead_id, delivery_id, event, outcome, at)
          VALUES (${partner.id}::uuid, ${lead.id}::uuid, ${d.id}::uuid, 'converted', 'converted', now())`;
        await stack.db.$executeRaw`INSERT INTO returns (lead_id, delivery_id, partner_id, reason, filed_via)
          VALUES (${lead.id}::uuid, ${d.id}::uuid, ${partner.id}::uuid, 'x', 'push')`;
        await stack.db.$executeRaw`INSERT INTO postbacks (id, lead_id, source_id, lead_status, updated_at)
          VALUES (gen_random_uuid(), ${lead.id}::uuid, ${source.id}::uuid, 'delivered', now())`;
      }
    } finally {
      await setFillTriggers(stack, true);
    }
    const before = await childRows(stack, ids);
    for (const table of BACKFILLED_TABLES) expect(before[table]!.missing).toBe(before[table]!.rows);
    const ledger = () =>
      stack.db.$queryRaw<{ digest: string }[]>`SELECT md5(string_agg(row_to_json(e)::text, ',' ORDER BY id)) AS digest
        FROM (SELECT id, lead_id, party, party_id, kind, amount, delivery_id, event_id, note, at, recorded_at
              FROM ledger_entries WHERE lead_id = ANY (${ids}::uuid[])) e`;
    const money = await ledger();

    // As just after the upgrade's migration: no walk has finished yet (the first test's worker finished its own).
    await stack.db.$executeRaw`DELETE FROM housekeeping_marks`;
    const walk = new Map<string, { after: string | null; done: boolean }>();
    const filled = await backfillLeadCreatedAt({ db: stack.db }, { batch: 2, walk });
    const after = await childRows(stack, ids);
    for (const table of BACKFILLED_TABLES) {
      expect({ table, ...after[table] }).toEqual({ table, rows: before[table]!.rows, missing: 0, wrong: 0 });
      expect({ table, filled: (filled[table] ?? 0) >= before[table]!.rows }).toEqual({ table, filled: true });
      expect(walk.get(table)).toEqual({ after: null, done: true });
    }
    expect(await ledger()).toEqual(money);
    // Walked to the end: the next round reads nothing more.
    expect(await backfillLeadCreatedAt({ db: stack.db }, { batch: 2, walk })).toEqual({});
    // Nor does a restarted worker: each walk's end is marked in the database. (A row without the column, which
    // only a version from before the fill triggers could write, shows that no table is walked again.)
    const marks = await stack.db.$queryRaw<{ name: string }[]>`SELECT name FROM housekeeping_marks ORDER BY name`;
    expect(marks.map((m) => m.name)).toEqual(BACKFILLED_TABLES.map((t) => `backfill:${t}`).sort());
    await setFillTriggers(stack, false);
    try {
      await stack.db.$executeRaw`INSERT INTO feedback_events (partner_id, lead_id, delivery_id, event, outcome, at)
        SELECT partner_id, lead_id, delivery_id, event, outcome, now() FROM feedback_events WHERE lead_id = ${ids[0]}::uuid`;
    } finally {
      await setFillTriggers(stack, true);
    }
    const restarted = new Map<string, { after: string | null; done: boolean }>();
    expect(await backfillLeadCreatedAt({ db: stack.db }, { batch: 2, walk: restarted })).toEqual({});
    for (const table of BACKFILLED_TABLES) expect(restarted.get(table)).toEqual({ after: null, done: true });
    expect((await childRows(stack, ids)).feedback_events!.missing).toBe(1);
    await stack.db.$executeRaw`DELETE FROM feedback_events WHERE lead_created_at IS NULL`;
    // The tables partitioned by it (ADR 0035 Decision 7) refuse a row without it: nothing to walk there, ever.
    await expect(
      stack.db.$executeRaw`INSERT INTO lead_events (lead_id, status) VALUES (${ids[0]}::uuid, 'delivered')`,
    ).rejects.toThrow(/lead_created_at/);

    // The exception is that narrow: another column, or lead_created_at once set, is refused, flag or not.
    for (const sql of [
      `UPDATE ledger_entries SET amount = 0 WHERE lead_id = '${ids[0]}'`,
      `UPDATE ledger_entries SET lead_created_at = now() WHERE lead_id = '${ids[0]}'`,
    ]) {
      await expect(stack.db.$executeRawUnsafe(sql)).rejects.toThrow(/ledger entries are immutable/);
      await expect(
        stack.db.$transaction([
          stack.db.$executeRawUnsafe(`SELECT set_config('leadrouter.ledger_backfill', 'lead_created_at', true)`),
          stack.db.$executeRawUnsafe(sql),
        ]),
      ).rejects.toThrow(/ledger entries are immutable/);
    }
  });
});
