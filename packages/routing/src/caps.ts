import { DateTime } from 'luxon';
import { CAP_PERIODS, type CapPeriod } from '@leadrouter/core/runtime';
import { formatAmount, ZERO, type Amount } from '@leadrouter/money';

// A partner's caps (docs/decisions/0008-routing.md, 0030-cap-counters.md): leads per hour, day, week and month,
// and what it pays per day and month, each counted in its period on the partner's clock. Pure: the periods of an
// instant, the decision whether one more lead fits, and what the admin API shows of each limit.

/** The start of each period `now` falls in, on the partner's wall clock. */
export type CapPeriods = Record<CapPeriod, Date>;

/**
 * The current hour, day, week and month as instants, counted on the partner's
 * wall clock (its schedule's timezone; UTC without one). Weeks start on
 * Monday (ISO 8601); a day is 23 or 25 hours on a DST change.
 */
export function capPeriods(now: Date, zone: string | undefined): CapPeriods {
  const local = DateTime.fromJSDate(now, { zone: zone ?? 'UTC' });
  return {
    hour: local.startOf('hour').toJSDate(),
    day: local.startOf('day').toJSDate(),
    week: local.startOf('week').toJSDate(),
    month: local.startOf('month').toJSDate(),
  };
}

/** The limits a partner can set, as the admin API names them. */
export const CAP_LIMITS = ['hourly', 'daily', 'weekly', 'monthly', 'dailyBudget', 'monthlyBudget'] as const;
export type CapLimit = (typeof CAP_LIMITS)[number];

/** The period each limit is counted in. */
export const LIMIT_PERIOD: Readonly<Record<CapLimit, CapPeriod>> = {
  hourly: 'hour',
  daily: 'day',
  weekly: 'week',
  monthly: 'month',
  dailyBudget: 'day',
  monthlyBudget: 'month',
};

/** A partner's caps: leads per period, and budgets (what it pays per day and month); null: no limit. */
export interface Caps {
  hourly: number | null;
  daily: number | null;
  weekly: number | null;
  monthly: number | null;
  dailyBudget: Amount | null;
  monthlyBudget: Amount | null;
}

export const NO_CAPS: Caps = {
  hourly: null,
  daily: null,
  weekly: null,
  monthly: null,
  dailyBudget: null,
  monthlyBudget: null,
};

/** Whether the partner has any cap (only then are its counters kept). */
export function hasCaps(caps: Caps): boolean {
  return CAP_LIMITS.some((limit) => caps[limit] !== null);
}

/** The periods whose counters a partner's caps need, in CAP_PERIODS order (none without caps). */
export function cappedPeriods(caps: Caps): CapPeriod[] {
  const needed = new Set(CAP_LIMITS.filter((limit) => caps[limit] !== null).map((limit) => LIMIT_PERIOD[limit]));
  return CAP_PERIODS.filter((period) => needed.has(period));
}

/** What the partner has taken in a period: leads pending or accepted, and what they hold against its budgets. */
export interface PeriodUsage {
  count: number;
  amount: Amount;
}

export const UNUSED: PeriodUsage = { count: 0, amount: ZERO };

export type CapUsage = Partial<Record<CapPeriod, PeriodUsage>>;

/**
 * What a lead offered to the partner reserves against its budgets: its fixed
 * `price` (what it pays unless its answer says otherwise), else the price of
 * its last sale (a partner priced by its answers usually pays about the
 * same), else nothing. The sale's real price replaces it at acceptance.
 */
export function capReserve(price: Amount | null, lastPrice: Amount | null): Amount {
  return price ?? lastPrice ?? ZERO;
}

export type CapCheck = { ok: true } | { ok: false; reason: string };

const LEAD_CAP_NAMES = { hourly: 'hourly', daily: 'daily', weekly: 'weekly', monthly: 'monthly' } as const;

/**
 * Whether one more lead fits the partner's caps, given what each period holds
 * already (leads pending or accepted, and their amounts) and what the lead
 * would reserve: a lead cap fits while fewer leads than the cap are held; a
 * budget fits while something is left of it and the reservation fits in what
 * is left (a budget is never overshot by a price known beforehand; a lead of
 * unknown price, reserving 0, fits while the budget is not used up). The
 * shortest period is checked first, so the reason names it.
 */
export function checkCaps(caps: Caps, usage: CapUsage, reserve: Amount): CapCheck {
  for (const limit of ['hourly', 'daily', 'weekly', 'monthly'] as const) {
    const cap = caps[limit];
    if (cap !== null && (usage[LIMIT_PERIOD[limit]] ?? UNUSED).count >= cap)
      return { ok: false, reason: `${LEAD_CAP_NAMES[limit]} cap of ${cap} reached` };
  }
  for (const limit of ['dailyBudget', 'monthlyBudget'] as const) {
    const budget = caps[limit];
    if (budget === null) continue;
    const used = (usage[LIMIT_PERIOD[limit]] ?? UNUSED).amount;
    const name = limit === 'dailyBudget' ? 'daily' : 'monthly';
    if (used.gte(budget)) return { ok: false, reason: `${name} budget of ${formatAmount(budget)} reached` };
    if (used.plus(reserve).gt(budget))
      return {
        ok: false,
        reason: `${name} budget of ${formatAmount(budget)} reached (${formatAmount(budget.minus(used))} left, the lead reserves ${formatAmount(reserve)})`,
      };
  }
  return { ok: true };
}

/** One limit as the admin API shows it: the limit, what is used of it in the current period, and what is left. */
export interface LimitUse<T> {
  limit: T;
  used: T;
  remaining: T;
  periodStart: Date;
}

export type CapsInUse = {
  [L in CapLimit]?: LimitUse<L extends 'dailyBudget' | 'monthlyBudget' ? Amount : number>;
};

/** Each limit the partner has, with what is used of it in the current period and what is left (never below 0). */
export function capsInUse(caps: Caps, usage: CapUsage, periods: CapPeriods): CapsInUse {
  const out: CapsInUse = {};
  for (const limit of ['hourly', 'daily', 'weekly', 'monthly'] as const) {
    const cap = caps[limit];
    if (cap === null) continue;
    const period = LIMIT_PERIOD[limit];
    const used = (usage[period] ?? UNUSED).count;
    out[limit] = { limit: cap, used, remaining: Math.max(0, cap - used), periodStart: periods[period] };
  }
  for (const limit of ['dailyBudget', 'monthlyBudget'] as const) {
    const budget = caps[limit];
    if (budget === null) continue;
    const period = LIMIT_PERIOD[limit];
    const used = (usage[period] ?? UNUSED).amount;
    const left = budget.minus(used);
    out[limit] = { limit: budget, used, remaining: left.gt(ZERO) ? left : ZERO, periodStart: periods[period] };
  }
  return out;
}
