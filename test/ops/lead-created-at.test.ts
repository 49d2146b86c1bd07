// Every row that belongs to a lead holds the lead's created_at (ADR 0035 Decision 5), the key of its month's partition:
// written by the statements themselves (a partitioned table routes a row by it before any trigger runs; the column is
// NOT NULL). The housekeeping's backfill of the rows written before the column existed, and the switch that needs it,
// are tested on a seeded database: packages/db/src/lead-partitions-migration.test.ts.
import { backfillLeadCreatedAt, LEAD_CHILD_TABLES } from '../../services/worker/src/housekeeping';
import { FakePartner } from '../support/partner';
import { ADMIN_TOKEN, sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

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
    await buyer.stop();
    await affiliate.stop();
    await stack.stop();
  });

  it('is written by every statement of a lead’s life, with no trigger to fill it', async () => {
    {
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
      const fill = await stack.db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_trigger
        WHERE NOT tgisinternal AND tgname LIKE '%lead_created_at'`;
      expect(fill).toEqual([{ n: 0 }]);
    }
  });

  it('needs no backfill once partitioned; the ledger’s backfill exception lets nothing through', async () => {
    const walk = new Map<string, { after: string | null; done: boolean }>();
    expect(await backfillLeadCreatedAt({ db: stack.db }, { batch: 2, walk })).toEqual({});
    for (const table of LEAD_CHILD_TABLES) expect(walk.get(table)).toEqual({ after: null, done: true });
    const [lead] = await stack.db.$queryRaw<{ id: string }[]>`SELECT lead_id::text AS id FROM ledger_entries LIMIT 1`;
    const ids = [lead!.id];

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
