import fc from 'fast-check';
import { amount, formatAmount, hasAtMostScale, percentOf, ZERO, type Amount } from './amount.js';
import {
  ledgerLines,
  leadMoney,
  lineKey,
  sourceEarnings,
  type LeadMoney,
  type LedgerLine,
  type MoneyEvent,
} from './ledger.js';
import type { Payout } from './payout.js';

const LEAD = 'lead-1';
const SOURCE = 'source-1';
const D1 = 'delivery-1';
const D2 = 'delivery-2';
const P1 = 'partner-1';
const P2 = 'partner-2';

const cpl: Payout = { model: 'cpl', amount: amount('10'), geo: new Map([['US', amount('12')]]) };
const cpa: Payout = { model: 'cpa', amount: amount('40'), geo: new Map() };
const revshare: Payout = { model: 'revshare', percent: amount('70') };

/** A lead's ledger, kept as the database keeps it: lines appended, each once-key at most once. */
class Ledger {
  entries: LedgerLine[] = [];
  constructor(private readonly lead: Omit<LeadMoney, 'entries'>) {}

  apply(event: MoneyEvent) {
    const decision = ledgerLines(event, { ...this.lead, entries: this.entries });
    if (decision.outcome === 'record') {
      const keys = new Set(this.entries.map(lineKey));
      for (const line of decision.lines) {
        // The unique key would refuse it: a decision must never produce a line twice.
        if (keys.has(lineKey(line))) throw new Error(`line written twice: ${lineKey(line)}`);
        keys.add(lineKey(line));
        this.entries.push(line);
      }
    }
    return decision;
  }

  /** The lines as `kind party amount`, for readable expectations. */
  get lines(): string[] {
    return this.entries.map((e) => `${e.kind} ${e.party} ${formatAmount(e.amount)}`);
  }

  get money() {
    const { revenue, cost, margin } = leadMoney(this.entries);
    return { revenue: formatAmount(revenue), cost: formatAmount(cost), margin: formatAmount(margin) };
  }
}

const lead = (payout: Payout | null, opts: { clawback?: boolean; geo?: string | null } = {}) =>
  new Ledger({ leadId: LEAD, sourceId: SOURCE, geo: opts.geo ?? 'US', payout, clawback: opts.clawback ?? true });
const sale = (deliveryId: string, partnerId: string, price: string): MoneyEvent => ({
  kind: 'sale',
  deliveryId,
  partnerId,
  price: amount(price),
});
const conversion = (deliveryId: string, partnerId: string, value: string): MoneyEvent => ({
  kind: 'conversion',
  deliveryId,
  partnerId,
  amount: amount(value),
});
const ret = (deliveryId: string, partnerId: string): MoneyEvent => ({ kind: 'return', deliveryId, partnerId });
const reversal = (deliveryId: string, partnerId: string): MoneyEvent => ({ kind: 'reversal', deliveryId, partnerId });

describe('the ledger lines of an event', () => {
  test('a sale: the partner pays its price, the source earns its cpl (by geo)', () => {
    const l = lead(cpl);
    expect(l.apply(sale(D1, P1, '25'))).toMatchObject({ outcome: 'record' });
    expect(l.entries).toEqual([
      { kind: 'sale', eventId: D1, party: 'partner', partyId: P1, deliveryId: D1, amount: amount('25') },
      { kind: 'sale', eventId: LEAD, party: 'source', partyId: SOURCE, deliveryId: D1, amount: amount('12') },
    ]);
    expect(l.money).toEqual({ revenue: '25.0000', cost: '12.0000', margin: '13.0000' });
    expect(formatAmount(sourceEarnings(l.entries))).toBe('12.0000');
  });

  test('cpl is paid once per lead, however many partners buy it', () => {
    const l = lead(cpl);
    l.apply(sale(D1, P1, '25'));
    l.apply(sale(D2, P2, '20'));
    expect(l.lines).toEqual(['sale partner 25.0000', 'sale source 12.0000', 'sale partner 20.0000']);
  });

  test('revshare is paid on each sale and each conversion; cpa only on conversions', () => {
    const r = lead(revshare);
    r.apply(sale(D1, P1, '12.3457'));
    r.apply(sale(D2, P2, '10'));
    r.apply(conversion(D1, P1, '40'));
    expect(r.lines).toEqual([
      'sale partner 12.3457',
      'sale source 8.6420',
      'sale partner 10.0000',
      'sale source 7.0000',
      'conversion partner 40.0000',
      'conversion source 28.0000',
    ]);
    const a = lead(cpa);
    a.apply(sale(D1, P1, '25'));
    a.apply(conversion(D1, P1, '100'));
    expect(a.lines).toEqual(['sale partner 25.0000', 'conversion partner 100.0000', 'conversion source 40.0000']);
  });

  test('the same event again is a duplicate and writes nothing', () => {
    const l = lead(revshare);
    for (const event of [sale(D1, P1, '25'), conversion(D1, P1, '40'), reversal(D1, P1), ret(D1, P1)]) {
      expect(l.apply(event).outcome).toBe('record');
      const before = l.lines;
      expect(l.apply(event)).toEqual({ outcome: 'duplicate' });
      expect(l.lines).toEqual(before);
    }
    // A second conversion of one sale, even with another amount: once per partner and lead.
    expect(l.apply(conversion(D1, P1, '99'))).toEqual({ outcome: 'duplicate' });
  });

  test('what did not happen cannot be converted, returned or reversed', () => {
    const l = lead(cpl);
    expect(l.apply(conversion(D1, P1, '40'))).toEqual({ outcome: 'refused', reason: 'not_sold' });
    expect(l.apply(ret(D1, P1))).toEqual({ outcome: 'refused', reason: 'not_sold' });
    l.apply(sale(D1, P1, '25'));
    expect(l.apply(reversal(D1, P1))).toEqual({ outcome: 'refused', reason: 'not_converted' });
    expect(l.lines).toEqual(['sale partner 25.0000', 'sale source 12.0000']);
  });

  test('an approved return credits the partner its sale and claws back the source’s payout for it', () => {
    const r = lead(revshare);
    r.apply(sale(D1, P1, '12.3457'));
    r.apply(ret(D1, P1));
    expect(r.lines.slice(2)).toEqual(['return partner -12.3457', 'return source -8.6420']);
    expect(r.money).toEqual({ revenue: '0.0000', cost: '0.0000', margin: '0.0000' });
  });

  test('with clawback: false the source keeps its payout', () => {
    const r = lead(revshare, { clawback: false });
    r.apply(sale(D1, P1, '10'));
    r.apply(ret(D1, P1));
    expect(r.lines).toEqual(['sale partner 10.0000', 'sale source 7.0000', 'return partner -10.0000']);
    expect(r.money).toEqual({ revenue: '0.0000', cost: '7.0000', margin: '-7.0000' });
  });

  test('cpl is clawed back once the last sale of the lead is returned, on the partner row it was paid on', () => {
    const l = lead(cpl);
    l.apply(sale(D1, P1, '25'));
    l.apply(sale(D2, P2, '20'));
    l.apply(ret(D2, P2));
    expect(l.lines.slice(3)).toEqual(['return partner -20.0000']);
    l.apply(ret(D1, P1));
    expect(l.lines.slice(4)).toEqual(['return partner -25.0000', 'return source -12.0000']);
    expect(l.entries.at(-1)).toMatchObject({ eventId: LEAD, deliveryId: D1 });
    expect(l.money).toEqual({ revenue: '0.0000', cost: '0.0000', margin: '0.0000' });
  });

  test('a reversal takes back both sides of the conversion, clawback or not', () => {
    const a = lead(cpa, { clawback: false });
    a.apply(sale(D1, P1, '25'));
    a.apply(conversion(D1, P1, '100'));
    a.apply(reversal(D1, P1));
    expect(a.lines.slice(3)).toEqual(['reversal partner -100.0000', 'reversal source -40.0000']);
    expect(a.money).toEqual({ revenue: '25.0000', cost: '0.0000', margin: '25.0000' });
  });

  test('an adjustment is one line as given, once per adjustment id and party', () => {
    const l = lead(null);
    const adjust: MoneyEvent = {
      kind: 'adjustment',
      adjustmentId: 'adj-1',
      party: 'source',
      partyId: SOURCE,
      amount: amount('-2.5'),
      note: 'bonus withdrawn',
    };
    expect(l.apply(adjust)).toEqual({
      outcome: 'record',
      lines: [
        {
          kind: 'adjustment',
          eventId: 'adj-1',
          party: 'source',
          partyId: SOURCE,
          deliveryId: null,
          amount: amount('-2.5'),
          note: 'bonus withdrawn',
        },
      ],
    });
    expect(l.apply(adjust)).toEqual({ outcome: 'duplicate' });
    expect(l.money).toEqual({ revenue: '0.0000', cost: '-2.5000', margin: '2.5000' });
  });

  test('no payout: the source earns nothing, the partner still pays', () => {
    const l = lead(null);
    l.apply(sale(D1, P1, '25'));
    l.apply(conversion(D1, P1, '5'));
    expect(l.lines).toEqual(['sale partner 25.0000', 'conversion partner 5.0000']);
  });
});

/**
 * Property: for any sequence of events on a lead (with repeats, events that
 * cannot happen, any payout and clawback), the lines the ledger keeps sum to
 * the revenue and cost an independent model of the lead's sales says, so
 * margin = revenue − cost; replaying any events again changes nothing; every
 * amount fits the column.
 */
describe('the ledger of any event sequence (property)', () => {
  const DELIVERIES = [
    { deliveryId: D1, partnerId: P1 },
    { deliveryId: D2, partnerId: P2 },
    { deliveryId: 'delivery-3', partnerId: 'partner-3' },
  ];
  const money = fc
    .bigInt({ min: 0n, max: 99_999_999n })
    .map((units) => amount(`${units / 10_000n}.${String(units % 10_000n).padStart(4, '0')}`));
  const payoutArb: fc.Arbitrary<Payout | null> = fc.oneof(
    fc.constant(null),
    fc.record({
      model: fc.constantFrom('cpl' as const, 'cpa' as const),
      amount: money,
      geo: fc.constantFrom(new Map<string, Amount>(), new Map([['US', amount('12.5')]])),
    }),
    fc.record({
      model: fc.constant('revshare' as const),
      percent: fc
        .integer({ min: 0, max: 1_000_000 })
        .map((n) => amount(`${Math.floor(n / 10_000)}.${String(n % 10_000).padStart(4, '0')}`)),
    }),
  );
  const delivery = fc.constantFrom(...DELIVERIES);
  const eventArb: fc.Arbitrary<MoneyEvent> = fc.oneof(
    fc.record({ kind: fc.constant('sale' as const), d: delivery, price: money }).map(({ d, price }) => ({
      kind: 'sale' as const,
      ...d,
      price,
    })),
    fc
      .record({ d: delivery, value: money })
      .map(({ d, value }) => ({ kind: 'conversion' as const, ...d, amount: value })),
    delivery.map((d) => ({ kind: 'return' as const, ...d })),
    delivery.map((d) => ({ kind: 'reversal' as const, ...d })),
    fc
      .record({ id: fc.constantFrom('adj-1', 'adj-2'), party: fc.constantFrom('partner' as const, 'source' as const) })
      .chain(({ id, party }) =>
        money.map((value) => ({
          kind: 'adjustment' as const,
          adjustmentId: id,
          party,
          partyId: party === 'partner' ? P1 : SOURCE,
          amount: value.neg(),
          note: 'correction',
        })),
      ),
  );

  /**
   * The lead's money from its story, told independently of the ledger: which
   * sales happened at what price, were converted for how much, returned,
   * reversed; then what each payout model pays on that story.
   */
  function expected(events: MoneyEvent[], payout: Payout | null, clawback: boolean, geo: string) {
    const sales = new Map<string, { price: Amount; conv?: Amount; returned?: boolean; reversed?: boolean }>();
    const adjustments = new Map<string, Amount>();
    let revenue = ZERO;
    let cost = ZERO;
    let cplPaid = false;
    let cplClawed = false;
    const cplAmount = payout && payout.model !== 'revshare' ? (payout.geo.get(geo) ?? payout.amount) : ZERO;
    const share = (a: Amount) => (payout?.model === 'revshare' ? percentOf(a, payout.percent) : ZERO);
    for (const e of events) {
      if (e.kind === 'adjustment') {
        const key = `${e.adjustmentId}:${e.party}`;
        if (adjustments.has(key)) continue;
        adjustments.set(key, e.amount);
        if (e.party === 'partner') revenue = revenue.plus(e.amount);
        else cost = cost.plus(e.amount);
        continue;
      }
      const s = sales.get(e.deliveryId);
      switch (e.kind) {
        case 'sale':
          if (s) break;
          sales.set(e.deliveryId, { price: e.price });
          revenue = revenue.plus(e.price);
          cost = cost.plus(share(e.price));
          if (payout?.model === 'cpl' && !cplPaid) {
            cplPaid = true;
            cost = cost.plus(cplAmount);
          }
          break;
        case 'conversion':
          if (!s || s.conv) break;
          s.conv = e.amount;
          revenue = revenue.plus(e.amount);
          cost = cost.plus(share(e.amount)).plus(payout?.model === 'cpa' ? cplAmount : ZERO);
          break;
        case 'return':
          if (!s || s.returned) break;
          s.returned = true;
          revenue = revenue.minus(s.price);
          if (clawback) {
            cost = cost.minus(share(s.price));
            if (cplPaid && !cplClawed && [...sales.values()].every((x) => x.returned)) {
              cplClawed = true;
              cost = cost.minus(cplAmount);
            }
          }
          break;
        case 'reversal':
          if (!s?.conv || s.reversed) break;
          s.reversed = true;
          revenue = revenue.minus(s.conv);
          cost = cost.minus(share(s.conv)).minus(payout?.model === 'cpa' ? cplAmount : ZERO);
          break;
      }
    }
    return { revenue, cost };
  }

  test('lines sum to revenue − cost, match the story, fit numeric(12, 4), and replays change nothing', () => {
    fc.assert(
      fc.property(
        payoutArb,
        fc.boolean(),
        fc.constantFrom('US', 'FR'),
        fc.array(eventArb, { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (payout, clawback, geo, events, replays) => {
          const l = new Ledger({ leadId: LEAD, sourceId: SOURCE, geo, payout, clawback });
          const recorded = events.filter((e) => l.apply(e).outcome === 'record');

          const want = expected(events, payout, clawback, geo);
          const got = leadMoney(l.entries);
          expect(formatAmount(got.revenue)).toBe(formatAmount(want.revenue));
          expect(formatAmount(got.cost)).toBe(formatAmount(want.cost));
          const signedSum = l.entries.reduce(
            (sum, e) => (e.party === 'partner' ? sum.plus(e.amount) : sum.minus(e.amount)),
            ZERO,
          );
          expect(formatAmount(got.margin)).toBe(formatAmount(signedSum));
          expect(formatAmount(got.margin)).toBe(formatAmount(want.revenue.minus(want.cost)));
          for (const e of l.entries) {
            expect(hasAtMostScale(e.amount)).toBe(true);
            expect(e.amount.abs().lte('99999999.9999')).toBe(true);
          }

          // Any event recorded, delivered again (a retried job, repeated feedback): nothing more.
          const before = l.lines;
          for (const i of replays) {
            if (recorded.length > 0) expect(l.apply(recorded[i % recorded.length]!)).toEqual({ outcome: 'duplicate' });
          }
          expect(l.lines).toEqual(before);
        },
      ),
      { numRuns: 500 },
    );
  });
});
