import { sqlPool, SqlTransactionGroups } from '@leadrouter/db';
import type { LeadTransactions } from '@leadrouter/lifecycle';
import { deliverAttempt } from '../../services/worker/src/deliver';
import type { WorkerDeps } from '../../services/worker/src/deps';
import { FakePartner } from '../support/partner';
import { ledgerSums, rollupFigures } from '../support/rollups';
import { TestStack } from '../support/stack';

// The worker's sales recorded in groups (ADR 0038), on real PostgreSQL: attempts' records of different leads
// that run at once share one transaction, and the sales' ledger lines — written in the commit of the accepted
// attempt that causes them, last in it (a combinable call) — are one INSERT for the group, so the ledger's
// rollup trigger runs once for it; each sale's lines are written once, and the rollups equal the ledger's sums
// and the figures of the same sales recorded one by one.

describe('sales recorded in groups', () => {
  const stack = new TestStack({ worker: false });
  let buyer: FakePartner;
  let partnerId: string;
  let direct: WorkerDeps;
  const n = 8;

  /** The buyer's price for its i-th request: odd amounts, the same n in every round of n requests. */
  const priceOf = (i: number) => `${11 + (i % n)}.${String((1234 * ((i % n) + 1)) % 10000).padStart(4, '0')}`;

  beforeAll(async () => {
    await stack.start();
    buyer = await new FakePartner((_req, i) => ({ status: 200, body: { ok: true, price: priceOf(i) } })).start();
    partnerId = (await stack.createPartner({ url: buyer.url, responseMap: { price: 'price' }, price: 9 })).id;
    direct = stack.directWorkerDeps();
  });
  afterAll(async () => {
    await buyer.stop();
    await stack.stop();
  });

  /** `count` leads of the source routing to the buyer, each with its pending delivery: the deliveries' ids. */
  const routingLeads = async (
    sourceId: string,
    count: number,
  ): Promise<{ leadIds: string[]; deliveryIds: string[] }> => {
    const leadIds: string[] = [];
    const deliveryIds: string[] = [];
    for (let i = 0; i < count; i++) {
      const lead = await stack.db.lead.create({
        data: {
          sourceId,
          status: 'routing',
          name: 'Jane',
          routing: {
            version: 1,
            routeName: 'main',
            strategy: 'priority',
            maxDeliveries: 1,
            candidates: [partnerId],
            decisions: [{ partnerId, decision: 'offered', at: new Date().toISOString() }],
          },
        },
      });
      const delivery = await stack.db.delivery.create({
        data: { leadId: lead.id, partnerId, nextAttemptAt: new Date() },
      });
      leadIds.push(lead.id);
      deliveryIds.push(delivery.id);
    }
    return { leadIds, deliveryIds };
  };

  /**
   * Group commit of one group in flight, held until `count` transactions wait for it: those run together, as
   * one transaction (the attempts' records are the only transactions of `deliverAttempt` that go through it).
   */
  const gathering = (count: number): LeadTransactions => {
    const groups = new SqlTransactionGroups(sqlPool(stack.db), { maxInFlight: 1, maxMembers: 32 });
    let release!: () => void;
    void groups.run('held', () => new Promise<void>((resolve) => (release = resolve)));
    let asked = 0;
    return {
      run: (key, work, options) => {
        const running = groups.run(key, work, options);
        if (++asked === count) release();
        return running;
      },
    };
  };

  /**
   * How many statements wrote the leads' sale lines: rows one statement inserted share its transaction (xmin)
   * and its command id in it (cmin; a ledger row is never updated or deleted). The ledger's rollup trigger is a
   * statement trigger: it ran as many times. And how many transactions committed them.
   */
  const saleWrites = async (leadIds: string[]) => {
    const [row] = await stack.db.$queryRaw<{ inserts: number; commits: number }[]>`
      SELECT count(DISTINCT (xmin::text, cmin::text))::int AS inserts, count(DISTINCT xmin::text)::int AS commits
      FROM ledger_entries WHERE lead_id = ANY(${leadIds}::uuid[]) AND kind = 'sale'`;
    return row!;
  };
  /** The leads' sale lines, as `lead party amount`, sorted. */
  const saleLines = async (leadIds: string[]) =>
    (
      await stack.db.ledgerEntry.findMany({
        where: { leadId: { in: leadIds }, kind: 'sale' },
        select: { leadId: true, party: true, amount: true },
      })
    )
      .map((e) => `${e.leadId} ${e.party} ${e.amount.toFixed(4)}`)
      .sort();

  it('writes a group’s sales’ lines in one INSERT, each sale’s once, and rollups equal to the ledger’s and to sales made one by one', async () => {
    const payout = { payout: { model: 'revshare', percent: 33.3333 } };
    const grouped = await stack.createSource(payout);
    const alone = await stack.createSource(payout);
    const g = await routingLeads(grouped.id, n);
    const a = await routingLeads(alone.id, n);

    const inGroups = { ...direct, transactions: gathering(n) };
    const steps = await Promise.all(
      g.deliveryIds.map((id) => deliverAttempt(inGroups, { deliveryId: id, attempt: 1 })),
    );
    expect(steps).toEqual(g.deliveryIds.map(() => 'accepted'));
    for (const id of a.deliveryIds)
      expect(await deliverAttempt(direct, { deliveryId: id, attempt: 1 })).toBe('accepted');

    // One transaction recorded the group's n attempts; their 2n lines (the buyer's sale and the source's share)
    // are one INSERT. One by one, one INSERT a sale.
    expect(await saleWrites(g.leadIds)).toEqual({ inserts: 1, commits: 1 });
    expect(await saleWrites(a.leadIds)).toEqual({ inserts: n, commits: n });
    const lines = await saleLines(g.leadIds);
    expect(lines).toHaveLength(2 * n);
    for (const id of g.leadIds) expect(await stack.leadStatus(id)).toBe('delivered');

    await stack.db.$queryRaw`SELECT report_fold(1000000)`;
    const figures = (sourceId: string) => rollupFigures(stack.db, sourceId, partnerId, ['sold', 'revenue', 'cost']);
    const ledger = (ids: string[]) => ledgerSums(stack.db, ids);
    const byGroups = await figures(grouped.id);
    expect(byGroups).toEqual(await figures(alone.id));
    expect(byGroups.daily).toEqual({ sold: `${n}`, ...(await ledger(g.leadIds)) });
    expect(byGroups.hourly).toEqual(byGroups.daily);
    expect(await ledger(g.leadIds)).toEqual(await ledger(a.leadIds));
  });
});
