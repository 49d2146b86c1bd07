import { amount, ZERO } from '@leadrouter/money';
import { capPeriods, cappedPeriods, capReserve, capsInUse, checkCaps, hasCaps, NO_CAPS, type Caps } from './caps';

const at = (iso: string) => new Date(iso);
const caps = (given: Partial<Caps>): Caps => ({ ...NO_CAPS, ...given });
const use = (count: number, paid = '0') => ({ count, amount: amount(paid) });

describe('capPeriods', () => {
  it('counts hours and days on the partner’s clock (UTC without a timezone)', () => {
    const now = at('2026-01-06T03:30:00Z'); // a Tuesday
    expect(capPeriods(now, undefined)).toEqual({
      hour: at('2026-01-06T03:00:00Z'),
      day: at('2026-01-06T00:00:00Z'),
      week: at('2026-01-05T00:00:00Z'),
      month: at('2026-01-01T00:00:00Z'),
    });
    // New York: 22:30 on Monday the 5th, so the day began at 05:00Z on the 5th.
    expect(capPeriods(now, 'America/New_York')).toEqual({
      hour: at('2026-01-06T03:00:00Z'),
      day: at('2026-01-05T05:00:00Z'),
      week: at('2026-01-05T05:00:00Z'),
      month: at('2026-01-01T05:00:00Z'),
    });
    // India is UTC+5:30: the local hour starts on the half hour in UTC.
    expect(capPeriods(now, 'Asia/Kolkata').hour).toEqual(at('2026-01-06T03:30:00Z'));
  });

  it('has a 23-hour day on the spring DST change', () => {
    const { day } = capPeriods(at('2026-03-08T20:00:00Z'), 'America/New_York');
    expect(day).toEqual(at('2026-03-08T05:00:00Z')); // midnight EST
    const next = capPeriods(at('2026-03-09T20:00:00Z'), 'America/New_York').day;
    expect(next.getTime() - day.getTime()).toBe(23 * 3600_000);
  });

  it('starts weeks on Monday at midnight, to the millisecond', () => {
    // Sunday 23:59:59.999 is the week before; Monday 00:00 the new one.
    expect(capPeriods(at('2026-01-11T23:59:59.999Z'), 'UTC').week).toEqual(at('2026-01-05T00:00:00Z'));
    expect(capPeriods(at('2026-01-12T00:00:00.000Z'), 'UTC').week).toEqual(at('2026-01-12T00:00:00Z'));
    // In Paris (UTC+1 in winter) the week turns at 23:00Z on Sunday.
    expect(capPeriods(at('2026-01-11T22:59:59.999Z'), 'Europe/Paris').week).toEqual(at('2026-01-04T23:00:00Z'));
    expect(capPeriods(at('2026-01-11T23:00:00.000Z'), 'Europe/Paris').week).toEqual(at('2026-01-11T23:00:00Z'));
    // A week across the new year belongs to the Monday it started on.
    expect(capPeriods(at('2026-01-01T12:00:00Z'), undefined).week).toEqual(at('2025-12-29T00:00:00Z'));
  });

  it('turns months on the partner’s clock, across DST and leap days', () => {
    expect(capPeriods(at('2026-01-31T23:59:59.999Z'), undefined).month).toEqual(at('2026-01-01T00:00:00Z'));
    expect(capPeriods(at('2026-02-01T00:00:00Z'), undefined).month).toEqual(at('2026-02-01T00:00:00Z'));
    // 1 April 00:30 in New York (EDT, UTC-4) is still 31 March in UTC.
    expect(capPeriods(at('2026-04-01T04:30:00Z'), 'America/New_York').month).toEqual(at('2026-04-01T04:00:00Z'));
    expect(capPeriods(at('2026-04-01T03:59:59.999Z'), 'America/New_York').month).toEqual(
      at('2026-03-01T05:00:00Z'), // March began in EST
    );
    expect(capPeriods(at('2028-02-29T12:00:00Z'), undefined)).toMatchObject({
      day: at('2028-02-29T00:00:00Z'),
      month: at('2028-02-01T00:00:00Z'),
    });
  });
});

describe('cappedPeriods and hasCaps', () => {
  it('keeps counters only for the periods a limit needs', () => {
    expect(hasCaps(NO_CAPS)).toBe(false);
    expect(cappedPeriods(NO_CAPS)).toEqual([]);
    expect(cappedPeriods(caps({ daily: 5 }))).toEqual(['day']);
    expect(cappedPeriods(caps({ monthlyBudget: amount('500'), hourly: 3 }))).toEqual(['hour', 'month']);
    expect(cappedPeriods(caps({ dailyBudget: amount('0'), daily: 2, weekly: 9 }))).toEqual(['day', 'week']);
    expect(hasCaps(caps({ weekly: 0 }))).toBe(true);
  });
});

describe('checkCaps', () => {
  it('refuses once a lead cap is full, the shortest period first', () => {
    const c = caps({ hourly: 5, daily: 100 });
    expect(checkCaps(c, { hour: use(4), day: use(50) }, ZERO)).toEqual({ ok: true });
    expect(checkCaps(c, { hour: use(5), day: use(50) }, ZERO)).toEqual({
      ok: false,
      reason: 'hourly cap of 5 reached',
    });
    expect(checkCaps(caps({ daily: 100 }), { hour: use(500), day: use(100) }, ZERO)).toEqual({
      ok: false,
      reason: 'daily cap of 100 reached',
    });
    expect(checkCaps(caps({ weekly: 7, monthly: 20 }), { week: use(7), month: use(20) }, ZERO)).toEqual({
      ok: false,
      reason: 'weekly cap of 7 reached',
    });
    expect(checkCaps(caps({ monthly: 20 }), { month: use(20) }, ZERO)).toEqual({
      ok: false,
      reason: 'monthly cap of 20 reached',
    });
    expect(checkCaps(NO_CAPS, { hour: use(1e6), day: use(1e6) }, ZERO)).toEqual({ ok: true });
    expect(checkCaps(caps({ hourly: 0 }), {}, ZERO)).toMatchObject({ ok: false });
    // A period without a counter yet holds nothing.
    expect(checkCaps(caps({ weekly: 1 }), {}, ZERO)).toEqual({ ok: true });
  });

  it('takes a lead while its reservation fits what is left of each budget, exactly to the cent', () => {
    const c = caps({ dailyBudget: amount('25'), monthlyBudget: amount('1000') });
    expect(checkCaps(c, { day: use(1, '15'), month: use(1, '15') }, amount('10'))).toEqual({ ok: true });
    expect(checkCaps(c, { day: use(1, '15.0001'), month: use(1, '15') }, amount('10'))).toEqual({
      ok: false,
      reason: 'daily budget of 25.0000 reached (9.9999 left, the lead reserves 10.0000)',
    });
    expect(checkCaps(c, { day: use(0, '0'), month: use(99, '995') }, amount('5'))).toEqual({ ok: true });
    expect(checkCaps(c, { day: use(0, '0'), month: use(99, '995') }, amount('5.01'))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^monthly budget of 1000\.0000 reached/),
    });
  });

  it('takes a lead of unknown price (reserving 0) until the budget is used up', () => {
    const c = caps({ dailyBudget: amount('25') });
    expect(checkCaps(c, { day: use(3, '24.9999') }, ZERO)).toEqual({ ok: true });
    expect(checkCaps(c, { day: use(3, '25') }, ZERO)).toEqual({ ok: false, reason: 'daily budget of 25.0000 reached' });
    // Answer prices can overshoot it: it stays reached.
    expect(checkCaps(c, { day: use(3, '31.5') }, ZERO)).toMatchObject({ ok: false });
    expect(checkCaps(caps({ dailyBudget: amount('0') }), {}, ZERO)).toMatchObject({ ok: false });
  });
});

describe('capReserve', () => {
  it('reserves the fixed price, else the last sale’s, else nothing', () => {
    expect(capReserve(amount('12.5'), amount('40'))).toEqual(amount('12.5'));
    expect(capReserve(null, amount('40'))).toEqual(amount('40'));
    expect(capReserve(null, null)).toEqual(ZERO);
  });
});

describe('capsInUse', () => {
  it('shows each limit the partner has, with what is used and left of it in its current period', () => {
    const periods = capPeriods(at('2026-01-06T03:30:00Z'), undefined);
    const shown = capsInUse(
      caps({ hourly: 5, weekly: 10, dailyBudget: amount('100'), monthlyBudget: amount('50') }),
      { hour: use(2, '20'), day: use(3, '30'), week: use(12, '120'), month: use(4, '60') },
      periods,
    );
    expect(shown).toEqual({
      hourly: { limit: 5, used: 2, remaining: 3, periodStart: periods.hour },
      weekly: { limit: 10, used: 12, remaining: 0, periodStart: periods.week },
      dailyBudget: { limit: amount('100'), used: amount('30'), remaining: amount('70'), periodStart: periods.day },
      monthlyBudget: { limit: amount('50'), used: amount('60'), remaining: ZERO, periodStart: periods.month },
    });
    expect(capsInUse(NO_CAPS, {}, periods)).toEqual({});
  });
});
