import fc from 'fast-check';
import {
  amount,
  formatAmount,
  MAX_AMOUNT_TEXT,
  parseAmount,
  percentOf,
  readAnswerAmount,
  roundAmount,
  sumAmounts,
} from './amount.js';

/** Decimal text of at most 4 places within numeric(12, 4), from a whole number of ten-thousandths. */
const amountText = fc.bigInt({ min: -999_999_999_999n, max: 999_999_999_999n }).map((units) => {
  const sign = units < 0n ? '-' : '';
  const digits = (units < 0n ? -units : units).toString().padStart(5, '0');
  return `${sign}${digits.slice(0, -4)}.${digits.slice(-4)}`;
});

describe('amounts', () => {
  test('are exact where numbers are not', () => {
    expect(formatAmount(amount('0.1').plus(amount('0.2')))).toBe('0.3000');
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(formatAmount(sumAmounts(Array.from({ length: 10 }, () => amount('0.1'))))).toBe('1.0000');
  });

  test('refuse to be used as numbers', () => {
    const a = amount('1.5');
    expect(() => Number(a)).toThrow();
    expect(() => a.plus(1)).toThrow();
    expect(() => a.toNumber()).not.toThrow(); // exact here; it throws only when it would round
  });

  test('format as numeric(12, 4) does, one text per value', () => {
    expect(formatAmount(amount('12.5'))).toBe('12.5000');
    expect(formatAmount(amount('-0.01'))).toBe('-0.0100');
    expect(formatAmount(amount('-0'))).toBe('0.0000');
    expect(formatAmount(amount('0').minus(amount('0')))).toBe('0.0000');
    expect(formatAmount(amount(MAX_AMOUNT_TEXT))).toBe('99999999.9999');
  });

  test('round half to even at the fourth decimal place', () => {
    const r = (s: string) => formatAmount(roundAmount(amount(s)));
    expect(r('0.00005')).toBe('0.0000');
    expect(r('0.00015')).toBe('0.0002');
    expect(r('0.00025')).toBe('0.0002');
    expect(r('0.000251')).toBe('0.0003');
    expect(r('-0.00015')).toBe('-0.0002');
    expect(r('-0.00025')).toBe('-0.0002');
    expect(formatAmount(percentOf(amount('12.3457'), amount('70')))).toBe('8.6420'); // 8.64199
    expect(formatAmount(percentOf(amount('0.0001'), amount('50')))).toBe('0.0000'); // 0.00005: to even
    expect(formatAmount(percentOf(amount('0.0003'), amount('50')))).toBe('0.0002'); // 0.00015: to even
  });

  test('round-trip exactly through their text (property)', () => {
    fc.assert(
      fc.property(amountText, (text) => {
        const value = amount(text);
        expect(formatAmount(value)).toBe(text === '-0.0000' ? '0.0000' : text);
        expect(amount(formatAmount(value)).eq(value)).toBe(true);
      }),
    );
  });

  test('read a JSON number as the decimal that was written (property)', () => {
    fc.assert(
      fc.property(amountText, (text) => {
        const fromNumber = parseAmount(JSON.parse(text) as number, { signed: true });
        expect(fromNumber).toEqual({ ok: true, amount: expect.anything() });
        if (fromNumber.ok) expect(formatAmount(fromNumber.amount)).toBe(formatAmount(amount(text)));
      }),
    );
  });

  test('from outside: decimal numbers or strings of at most 4 places, within numeric(12, 4)', () => {
    const ok = (v: unknown, signed = false) => {
      const p = parseAmount(v, { signed });
      return p.ok ? formatAmount(p.amount) : p.message;
    };
    expect(ok(40)).toBe('40.0000');
    expect(ok('12.3456')).toBe('12.3456');
    expect(ok(' 7 ')).toBe('7.0000');
    expect(ok(1e-4)).toBe('0.0001');
    expect(ok(99999999.9999)).toBe('99999999.9999');
    expect(ok(-5)).toBe('must not be negative');
    expect(ok(-5, true)).toBe('-5.0000');
    expect(ok(0.1 + 0.2)).toBe('must have at most 4 decimal places');
    expect(ok('1.23456')).toBe('must have at most 4 decimal places');
    expect(ok(100000000)).toBe('must be at most 99999999.9999 in size');
    expect(ok(-100000000, true)).toBe('must be at most 99999999.9999 in size');
    for (const bad of [NaN, Infinity, '1e3', '0x10', '', '1,5', '+1', null, true, {}, [], '١٢'])
      expect(ok(bad)).toBe('must be a decimal number');
  });

  test("from a partner's answer: read when it can be, rounded to 4 places", () => {
    const read = (v: unknown) => {
      const a = readAnswerAmount(v);
      return a === null ? null : formatAmount(a);
    };
    expect(read(12.5)).toBe('12.5000');
    expect(read('12.34565')).toBe('12.3456');
    expect(read('12.34575')).toBe('12.3458');
    expect(read(0.1 + 0.2)).toBe('0.3000');
    expect(read('99999999.99994')).toBe('99999999.9999');
    expect(read('99999999.99996')).toBeNull();
    expect(read(-1)).toBeNull();
    expect(read('free')).toBeNull();
    expect(read(undefined)).toBeNull();
  });

  test('trusted text must be a plain decimal', () => {
    expect(() => amount('1e3')).toThrow(TypeError);
    expect(() => amount(' 1')).toThrow(TypeError);
    expect(() => amount(1 as unknown as string)).toThrow(TypeError);
  });
});
