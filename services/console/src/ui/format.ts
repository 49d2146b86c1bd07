/** Times in the operator's own time zone (the browser's), with the zone named where it matters. */
export const TIME_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const hour = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const number = new Intl.NumberFormat();
const decimalPoint = number.formatToParts(1.5).find((p) => p.type === 'decimal')?.value ?? '.';
const percent = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 });

export const formatDateTime = (iso: string) => dateTime.format(new Date(iso));
export const formatClock = (d: Date) => timeOnly.format(d);
/** The start of an hour (a report's group), in the operator's zone. */
export const formatHour = (iso: string) => hour.format(new Date(iso));
export const formatNumber = (n: number) => number.format(n);
export const formatPercent = (ratio: number) => percent.format(ratio);

/**
 * An exact amount as the API gives it (decimal text such as `"1250.5000"`, or a number), with its thousands
 * grouped and its trailing zeros beyond cents dropped — from the text, never through a float.
 */
export function formatMoney(amount: string | number): string {
  const text = String(amount);
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) return text;
  const [, sign, whole, frac = ''] = m;
  const cents = frac.replace(/0+$/, '').padEnd(2, '0');
  return `${sign}${number.format(BigInt(whole!))}${decimalPoint}${cents}`;
}

/** The start of today in the operator's zone, as an ISO instant. */
export function startOfToday(now = new Date()): string {
  const d = new Date(now);
  d.setHours(0, 0, 0, 0);
  return d.toISOString();
}

/** A `datetime-local` input's value (local wall time) as an ISO instant; '' stays ''. */
export function localInputToIso(value: string): string {
  return value ? new Date(value).toISOString() : '';
}

/** "a few words" from `snake_case` / `camelCase` keys. */
export const humanise = (key: string) =>
  key
    .replace(/_/g, ' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
