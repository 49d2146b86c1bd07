// The worker's money gauges (ADR 0028): each partner's revenue, cost, sales, conversions, returns and reversals
// over the last 24 hours, read from the report rollups (and the deltas not yet folded) when scraped.
import { FOLD_REPORT_DELTAS, runStatement, sqlPool } from '@leadrouter/db';
import { createWorkerMetrics } from '@leadrouter/metrics';
import { registerMoneyGauges } from '../../services/worker/src/money-gauges';
import { Fixtures } from '../support/fixtures';
import { TestStack } from '../support/stack';

describe('the worker’s money gauges', () => {
  const stack = new TestStack({ worker: false });
  beforeAll(() => stack.start());
  afterAll(() => stack.stop());

  it('hold each partner’s last 24 hours, exactly what the ledger recorded, folded or not', async () => {
    const fx = new Fixtures(stack.db);
    const source = await fx.source();
    const acme = await fx.partner({ name: 'acme' });
    const beta = await fx.partner({ name: 'beta' });
    const now = new Date();
    const entry = async (
      partnerId: string,
      lines: { party: 'partner' | 'source'; kind: string; amount: string }[],
      at: Date,
    ) => {
      const lead = await fx.lead({ sourceId: source.id, status: 'delivered' });
      const d = await fx.delivery({ leadId: lead.id, partnerId, status: 'accepted' });
      for (const l of lines)
        await stack.db.$executeRawUnsafe(
          `INSERT INTO ledger_entries (lead_id, party, party_id, kind, amount, delivery_id, event_id, at)
           VALUES ($1::uuid, $2::"LedgerParty", $3::uuid, $4::"LedgerKind", $5::numeric, $6::uuid, gen_random_uuid(), $7)`,
          lead.id,
          l.party,
          l.party === 'partner' ? partnerId : source.id,
          l.kind,
          l.amount,
          d.id,
          at,
        );
    };
    // acme: two sales, a conversion, a reversal of it, a return; beta: one sale; and an acme sale 30 h ago.
    await entry(
      acme.id,
      [
        { party: 'partner', kind: 'sale', amount: '12.5' },
        { party: 'source', kind: 'sale', amount: '4' },
        { party: 'partner', kind: 'conversion', amount: '40' },
        { party: 'partner', kind: 'reversal', amount: '-40' },
      ],
      now,
    );
    await entry(
      acme.id,
      [
        { party: 'partner', kind: 'sale', amount: '12.5' },
        { party: 'partner', kind: 'return', amount: '-12.5' },
      ],
      new Date(now.getTime() - 20 * 3_600_000),
    );
    await entry(beta.id, [{ party: 'partner', kind: 'sale', amount: '7.25' }], now);
    await entry(
      acme.id,
      [{ party: 'partner', kind: 'sale', amount: '1000' }],
      new Date(now.getTime() - 30 * 3_600_000),
    );

    /** The gauges of a worker that starts now (a reading of its own). */
    const scrape = async () => {
      const metrics = createWorkerMetrics({ processMetrics: false });
      registerMoneyGauges({ db: stack.db, now: () => now }, metrics);
      const out: Record<string, Record<string, number>> = {};
      for (const name of ['revenue', 'cost', 'sales', 'conversions', 'returns', 'reversals']) {
        const { values } = await metrics.registry.getSingleMetric(`leadrouter_partner_${name}_24h`)!.get();
        out[name] = Object.fromEntries(values.map((v) => [String(v.labels.partner), v.value]));
      }
      return { out, text: await metrics.registry.metrics() };
    };
    const expected = {
      revenue: { acme: 12.5, beta: 7.25 },
      cost: { acme: 4, beta: 0 },
      sales: { acme: 2, beta: 1 },
      conversions: { acme: 1, beta: 0 },
      returns: { acme: 1, beta: 0 },
      reversals: { acme: 1, beta: 0 },
    };
    expect((await scrape()).out).toEqual(expected);
    await runStatement(sqlPool(stack.db), FOLD_REPORT_DELTAS, { maxRows: 100_000 });
    const folded = await scrape();
    expect(folded.out).toEqual(expected);
    expect(folded.text).toContain('leadrouter_partner_reversals_24h{partner="acme"} 1');
  });
});
