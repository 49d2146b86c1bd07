import type { FieldError, PayoutModel } from '@leadrouter/core';
import { type Amount, amount, formatAmount, parseAmount, percentOf, ZERO } from './amount.js';

/**
 * What a source is paid (README "What sources earn"): per lead sold (`cpl`), per
 * conversion (`cpa`), or a share of what the partners pay for its lead, on
 * each sale and conversion (`revshare`). `geo` overrides `amount` by the
 * lead's geo (cpl and cpa only: a revshare has no amount to override).
 */
export type Payout =
  | { model: Exclude<PayoutModel, 'revshare'>; amount: Amount; geo: ReadonlyMap<string, Amount> }
  | { model: 'revshare'; percent: Amount };

const GEO = /^[A-Z]{2}$/;

export type PayoutParse = { ok: true; payout: Payout | null } | { ok: false; errors: FieldError[] };

/**
 * A source's `payout` as the admin API receives it —
 * `{"model":"cpl","amount":10,"geo":{"US":12}}`, `{"model":"revshare","percent":70}`,
 * or null (none) — checked whole: every error, with JSON pointers below `/payout`.
 */
export function parsePayout(value: unknown): PayoutParse {
  if (value === null || value === undefined) return { ok: true, payout: null };
  const errors: FieldError[] = [];
  const at = (field: string, message: string) => errors.push({ field: `/payout${field}`, message });
  if (typeof value !== 'object' || Array.isArray(value)) {
    at('', 'must be an object or null');
    return { ok: false, errors };
  }
  const input = value as Record<string, unknown>;
  const model = input.model;
  const allowed: Record<string, string[]> = { cpl: ['amount', 'geo'], cpa: ['amount', 'geo'], revshare: ['percent'] };
  if (typeof model === 'string' && Object.hasOwn(allowed, model)) {
    for (const key of Object.keys(input)) {
      if (key !== 'model' && !allowed[model]!.includes(key)) at(`/${key}`, `is not allowed with ${model}`);
    }
  }
  const read = (field: string, raw: unknown): Amount | null => {
    const parsed = parseAmount(raw);
    if (parsed.ok) return parsed.amount;
    at(field, parsed.message);
    return null;
  };

  if (model === 'revshare') {
    if (input.percent === undefined) at('/percent', 'is required');
    const percent = input.percent === undefined ? null : read('/percent', input.percent);
    if (percent && percent.gt('100')) at('/percent', 'must be at most 100');
    return errors.length > 0 || !percent ? { ok: false, errors } : { ok: true, payout: { model, percent } };
  }
  if (model === 'cpl' || model === 'cpa') {
    if (input.amount === undefined) at('/amount', 'is required');
    const base = input.amount === undefined ? null : read('/amount', input.amount);
    const geo = new Map<string, Amount>();
    if (input.geo !== undefined) {
      if (input.geo === null || typeof input.geo !== 'object' || Array.isArray(input.geo)) {
        at('/geo', 'must be an object of amounts by country code');
      } else {
        for (const [code, raw] of Object.entries(input.geo as Record<string, unknown>)) {
          if (!GEO.test(code)) at(`/geo/${code}`, 'must be keyed by an ISO 3166-1 alpha-2 code in upper case');
          const value = read(`/geo/${code}`, raw);
          if (value) geo.set(code, value);
        }
      }
    }
    return errors.length > 0 || !base ? { ok: false, errors } : { ok: true, payout: { model, amount: base, geo } };
  }
  at('/model', 'must be one of "cpl", "cpa", "revshare"');
  return { ok: false, errors };
}

/** The source columns a payout is stored in (numeric, and decimal strings in payout_geo). */
export interface PayoutColumns {
  payoutModel: PayoutModel | null;
  payoutAmount: string | null;
  payoutPercent: string | null;
  payoutGeo: Record<string, string> | null;
}

export function payoutToColumns(payout: Payout | null): PayoutColumns {
  if (!payout) return { payoutModel: null, payoutAmount: null, payoutPercent: null, payoutGeo: null };
  if (payout.model === 'revshare') {
    return {
      payoutModel: 'revshare',
      payoutAmount: null,
      payoutPercent: formatAmount(payout.percent),
      payoutGeo: null,
    };
  }
  return {
    payoutModel: payout.model,
    payoutAmount: formatAmount(payout.amount),
    payoutPercent: null,
    payoutGeo: payout.geo.size > 0 ? Object.fromEntries([...payout.geo].map(([g, a]) => [g, formatAmount(a)])) : null,
  };
}

/** A payout from its columns as stored (throws on a row no writer could have written). */
export function payoutFromColumns(row: PayoutColumns): Payout | null {
  switch (row.payoutModel) {
    case null:
      return null;
    case 'revshare':
      return { model: 'revshare', percent: amount(required(row.payoutPercent, 'payout_percent')) };
    case 'cpl':
    case 'cpa':
      return {
        model: row.payoutModel,
        amount: amount(required(row.payoutAmount, 'payout_amount')),
        geo: new Map(Object.entries(row.payoutGeo ?? {}).map(([g, a]) => [g, amount(a)])),
      };
  }
}

function required(value: string | null, column: string): string {
  if (value === null) throw new TypeError(`${column} is missing for the source's payout model`);
  return value;
}

/**
 * What the source earns on one event of its lead, or null when its payout
 * does not pay on this event: cpl on a sale, cpa on a conversion (the lead's
 * geo amount, else the amount), revshare on both (its percent of what the
 * partner pays, `partnerAmount`, rounded to 4 places half to even).
 */
export function sourcePayout(
  payout: Payout | null,
  on: 'sale' | 'conversion',
  geo: string | null,
  partnerAmount: Amount,
): Amount | null {
  if (!payout) return null;
  switch (payout.model) {
    case 'revshare':
      return percentOf(partnerAmount, payout.percent);
    case 'cpl':
    case 'cpa':
      if ((payout.model === 'cpl') !== (on === 'sale')) return null;
      return (geo !== null ? payout.geo.get(geo) : undefined) ?? payout.amount;
  }
}

/** What a partner pays for a lead it accepts: the price in its answer, else its auction bid, else its fixed price. */
export function salePrice(prices: { answer?: Amount | null; bid?: Amount | null; fixed?: Amount | null }): Amount {
  return prices.answer ?? prices.bid ?? prices.fixed ?? ZERO;
}

/** What a partner pays for a conversion: the amount it reported, else its conversionPrice. */
export function conversionRevenue(prices: { reported?: Amount | null; conversionPrice?: Amount | null }): Amount {
  return prices.reported ?? prices.conversionPrice ?? ZERO;
}
