import BigJs from 'big.js';

/**
 * Amounts of money: exact decimals (big.js), in the installation's CURRENCY,
 * with at most SCALE decimal places as stored (PostgreSQL numeric(12, 4)).
 * Never a JavaScript number: the constructor below is strict, so a number
 * passed to it, or an amount used as one (`a + b`, `a > b`, `Number(a)`),
 * throws instead of rounding silently.
 */
const Big = BigJs();
Big.strict = true;
// Division is only ever by 100 (percentages), exact well within this.
Big.DP = 20;
Big.RM = Big.roundHalfEven;
// toString() never in exponential notation for any amount we can hold.
Big.NE = -30;
Big.PE = 40;

export type Amount = BigJs.Big;

/** Decimal places of a stored amount (up to 4; ADR 0023). */
export const SCALE = 4;
/** The largest amount an entry, a price or a payout can hold: numeric(12, 4). */
export const MAX_AMOUNT_TEXT = '99999999.9999';
const MAX_AMOUNT = new Big(MAX_AMOUNT_TEXT);

export const ZERO: Amount = new Big('0');

const DECIMAL = /^-?\d{1,40}(\.\d{1,40})?$/;

/**
 * An amount from trusted decimal text (PostgreSQL's numeric output, our own
 * formatAmount): `12`, `-0.5`, `12.3400`. Throws on anything else; input
 * from outside goes through parseAmount.
 */
export function amount(text: string): Amount {
  if (typeof text !== 'string' || !DECIMAL.test(text))
    throw new TypeError(`not a decimal amount: ${JSON.stringify(text)}`);
  return new Big(text);
}

/** The canonical text of an amount, as numeric(12, 4) returns it: `12.5000`, `-0.0100`, `0.0000`. */
export function formatAmount(value: Amount): string {
  return value.eq(ZERO) ? '0.0000' : value.toFixed(SCALE, Big.roundHalfEven);
}

/** Rounded to SCALE decimal places, half to even (docs/decisions/0023-money-model.md). */
export function roundAmount(value: Amount): Amount {
  return value.round(SCALE, Big.roundHalfEven);
}

export function hasAtMostScale(value: Amount, scale = SCALE): boolean {
  return value.round(scale, Big.roundDown).eq(value);
}

export function withinRange(value: Amount): boolean {
  return value.abs().lte(MAX_AMOUNT);
}

export function sumAmounts(values: Iterable<Amount>): Amount {
  let total = ZERO;
  for (const v of values) total = total.plus(v);
  return total;
}

/** `percent`% of `value`, rounded to SCALE (half to even). */
export function percentOf(value: Amount, percent: Amount): Amount {
  return roundAmount(value.times(percent).div('100'));
}

/**
 * A JSON number or a decimal string as an exact decimal, or null. A number
 * is read through its shortest round-trip text (`String(n)`), which is the
 * decimal that was written for every amount of up to 15 significant digits
 * (all of numeric(12, 4)); a number that was not such a decimal (0.1 + 0.2)
 * shows more decimal places and is caught by the scale checks.
 */
function decimalOf(value: unknown): Amount | null {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null;
    return new Big(String(value));
  }
  if (typeof value === 'string') {
    const text = value.trim();
    return DECIMAL.test(text) ? new Big(text) : null;
  }
  return null;
}

export type AmountParse = { ok: true; amount: Amount } | { ok: false; message: string };

/**
 * An amount given to us (the admin API, a partner's feedback): a JSON number
 * or a decimal string with at most SCALE decimal places, within
 * ±MAX_AMOUNT_TEXT; negative only when `signed` (adjustments).
 */
export function parseAmount(value: unknown, opts: { signed?: boolean } = {}): AmountParse {
  const decimal = decimalOf(value);
  if (decimal === null) return { ok: false, message: 'must be a decimal number' };
  if (!hasAtMostScale(decimal)) return { ok: false, message: `must have at most ${SCALE} decimal places` };
  if (!opts.signed && decimal.lt(ZERO)) return { ok: false, message: 'must not be negative' };
  if (!withinRange(decimal)) return { ok: false, message: `must be at most ${MAX_AMOUNT_TEXT} in size` };
  return { ok: true, amount: decimal.eq(ZERO) ? ZERO : decimal };
}

/**
 * A price read from a partner's answer (its responseMap.price path): a JSON
 * number or a numeric string, not negative, within MAX_AMOUNT_TEXT, rounded
 * to SCALE half to even (a partner's answer is not ours to refuse for a fifth
 * decimal). Anything else is unreadable: null.
 */
export function readAnswerAmount(value: unknown): Amount | null {
  const decimal = decimalOf(value);
  if (decimal === null || decimal.lt(ZERO)) return null;
  const rounded = roundAmount(decimal);
  return withinRange(rounded) ? rounded : null;
}

/**
 * An amount as a JSON number, for the API's answers and postbacks: exact, since every amount we hold has at
 * most 15 significant digits, whose shortest round-trip text is the decimal itself (`12.5`, `-0.0125`).
 * Throws (big.js strict mode) rather than answer a number that is not the amount.
 */
export function amountNumber(value: Amount): number {
  return value.toNumber();
}
