import { amount, formatAmount, type Amount } from './amount.js';
import {
  conversionRevenue,
  parsePayout,
  payoutFromColumns,
  payoutToColumns,
  salePrice,
  sourcePayout,
  type Payout,
} from './payout.js';

const text = (a: Amount | null) => (a === null ? null : formatAmount(a));

function payout(value: unknown): Payout | null {
  const parsed = parsePayout(value);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.payout;
}

describe('a source payout', () => {
  test('is read from the admin API shape, with every error', () => {
    expect(payout(null)).toBeNull();
    expect(payout({ model: 'cpl', amount: 10 })).toEqual({ model: 'cpl', amount: amount('10'), geo: new Map() });
    expect(payout({ model: 'cpa', amount: '40.5', geo: { US: 12, CA: '8.25' } })).toEqual({
      model: 'cpa',
      amount: amount('40.5'),
      geo: new Map([
        ['US', amount('12')],
        ['CA', amount('8.25')],
      ]),
    });
    expect(payout({ model: 'revshare', percent: 70 })).toEqual({ model: 'revshare', percent: amount('70') });

    expect(parsePayout({ model: 'cpl', amount: -1, geo: { us: 1.23456, CA: 'x' } })).toEqual({
      ok: false,
      errors: [
        { field: '/payout/amount', message: 'must not be negative' },
        { field: '/payout/geo/us', message: 'must be keyed by an ISO 3166-1 alpha-2 code in upper case' },
        { field: '/payout/geo/us', message: 'must have at most 4 decimal places' },
        { field: '/payout/geo/CA', message: 'must be a decimal number' },
      ],
    });
    expect(parsePayout({ model: 'revshare', percent: 120, amount: 3 })).toEqual({
      ok: false,
      errors: [
        { field: '/payout/amount', message: 'is not allowed with revshare' },
        { field: '/payout/percent', message: 'must be at most 100' },
      ],
    });
    expect(parsePayout({ model: 'cpa' })).toEqual({
      ok: false,
      errors: [{ field: '/payout/amount', message: 'is required' }],
    });
    expect(parsePayout({ model: 'flat', amount: 1 })).toEqual({
      ok: false,
      errors: [{ field: '/payout/model', message: 'must be one of "cpl", "cpa", "revshare"' }],
    });
    expect(parsePayout([1])).toEqual({
      ok: false,
      errors: [{ field: '/payout', message: 'must be an object or null' }],
    });
  });

  test('round-trips through its columns exactly', () => {
    for (const p of [
      null,
      payout({ model: 'cpl', amount: 10 }),
      payout({ model: 'cpa', amount: '40.1234', geo: { US: 12 } }),
      payout({ model: 'revshare', percent: '33.3333' }),
    ]) {
      const columns = payoutToColumns(p);
      expect(payoutFromColumns(JSON.parse(JSON.stringify(columns)) as typeof columns)).toEqual(p);
    }
    expect(payoutToColumns(payout({ model: 'cpa', amount: 40, geo: { US: 12 } }))).toEqual({
      payoutModel: 'cpa',
      payoutAmount: '40.0000',
      payoutPercent: null,
      payoutGeo: { US: '12.0000' },
    });
  });

  test('pays cpl on sales, cpa on conversions, by geo where one is set', () => {
    const cpl = payout({ model: 'cpl', amount: 10, geo: { US: 12 } });
    const cpa = payout({ model: 'cpa', amount: 40, geo: { CA: 35 } });
    const price = amount('25');
    expect(text(sourcePayout(cpl, 'sale', 'US', price))).toBe('12.0000');
    expect(text(sourcePayout(cpl, 'sale', 'FR', price))).toBe('10.0000');
    expect(text(sourcePayout(cpl, 'sale', null, price))).toBe('10.0000');
    expect(sourcePayout(cpl, 'conversion', 'US', price)).toBeNull();
    expect(text(sourcePayout(cpa, 'conversion', 'CA', price))).toBe('35.0000');
    expect(text(sourcePayout(cpa, 'conversion', 'US', price))).toBe('40.0000');
    expect(sourcePayout(cpa, 'sale', 'CA', price)).toBeNull();
    expect(sourcePayout(null, 'sale', 'US', price)).toBeNull();
  });

  test('pays revshare on both, rounded half to even', () => {
    const rev = payout({ model: 'revshare', percent: 70 });
    expect(text(sourcePayout(rev, 'sale', 'US', amount('12.3457')))).toBe('8.6420');
    expect(text(sourcePayout(rev, 'conversion', null, amount('40')))).toBe('28.0000');
    expect(text(sourcePayout(payout({ model: 'revshare', percent: 50 }), 'sale', null, amount('0.0001')))).toBe(
      '0.0000',
    );
  });
});

describe('what a partner pays', () => {
  test('for a sale: its answer, else its bid, else its fixed price, else nothing', () => {
    const [a, b, f] = [amount('3'), amount('2'), amount('1')];
    expect(text(salePrice({ answer: a, bid: b, fixed: f }))).toBe('3.0000');
    expect(text(salePrice({ answer: null, bid: b, fixed: f }))).toBe('2.0000');
    expect(text(salePrice({ fixed: f }))).toBe('1.0000');
    expect(text(salePrice({}))).toBe('0.0000');
  });

  test('for a conversion: the amount it reported, else its conversionPrice, else nothing', () => {
    expect(text(conversionRevenue({ reported: amount('55'), conversionPrice: amount('40') }))).toBe('55.0000');
    expect(text(conversionRevenue({ reported: null, conversionPrice: amount('40') }))).toBe('40.0000');
    expect(text(conversionRevenue({}))).toBe('0.0000');
  });
});
