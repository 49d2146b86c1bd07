import type { FieldError } from '@leadrouter/core';
import { type Amount, parseAmount } from './amount.js';

/** What a partner's raw status can amount to (ADR 0023). */
export type FeedbackEffect = 'converted' | 'returned' | 'reversed';
const EFFECTS: readonly FeedbackEffect[] = ['converted', 'returned', 'reversed'];

/** A partner's statusMap, keyed by the normalised status (normaliseStatus). */
export type StatusMap = ReadonlyMap<string, FeedbackEffect>;

/** Statuses compare case-insensitively, and without surrounding white space. */
export function normaliseStatus(status: string): string {
  return status.trim().toLowerCase();
}

export type StatusMapParse = { ok: true; map: StatusMap } | { ok: false; errors: FieldError[] };

/**
 * A partner's `statusMap` as the admin API receives it,
 * `{"Deposit": "converted", "Invalid number": "returned"}`: every value one of
 * the effects, and no two statuses the same once case is ignored.
 */
export function parseStatusMap(value: unknown): StatusMapParse {
  if (value === null || value === undefined) return { ok: true, map: new Map() };
  if (typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, errors: [{ field: '/statusMap', message: 'must be an object of statuses to events' }] };
  }
  const errors: FieldError[] = [];
  const map = new Map<string, FeedbackEffect>();
  const firstSpelling = new Map<string, string>();
  for (const [status, effect] of Object.entries(value as Record<string, unknown>)) {
    const field = `/statusMap/${status.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    const key = normaliseStatus(status);
    if (key === '' || key.length > 200) errors.push({ field, message: 'must be a status of 1 to 200 characters' });
    else if (firstSpelling.has(key))
      errors.push({
        field,
        message: `is the same status as ${JSON.stringify(firstSpelling.get(key))} (case is ignored)`,
      });
    if (!EFFECTS.includes(effect as FeedbackEffect))
      errors.push({ field, message: `must be one of ${EFFECTS.map((e) => `"${e}"`).join(', ')}` });
    else {
      firstSpelling.set(key, firstSpelling.get(key) ?? status);
      map.set(key, effect as FeedbackEffect);
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, map };
}

/** The event a raw status stands for, or null when the statusMap does not name it. */
export function mapStatus(map: StatusMap, status: string): FeedbackEffect | null {
  return map.get(normaliseStatus(status)) ?? null;
}

export type StatusChange =
  { effect: FeedbackEffect } | { effect: 'none'; why: 'unchanged' | 'unmapped' | 'already_converted' };

/**
 * What a status event (pushed, or read by a status pull) does to one sale:
 * an unchanged status adds nothing; a status the statusMap does not name is
 * kept but does nothing; a converted sale whose status now maps to anything
 * else is reversed; otherwise the mapped event.
 */
export function statusChange(input: {
  /** The sale's last raw status from this partner, if any. */
  previous: string | null;
  status: string;
  map: StatusMap;
  /** Whether the sale is converted now (and not reversed). */
  converted: boolean;
}): StatusChange {
  if (input.previous !== null && normaliseStatus(input.previous) === normaliseStatus(input.status))
    return { effect: 'none', why: 'unchanged' };
  const mapped = mapStatus(input.map, input.status);
  if (mapped === null) return { effect: 'none', why: 'unmapped' };
  if (input.converted)
    return mapped === 'converted' ? { effect: 'none', why: 'already_converted' } : { effect: 'reversed' };
  return { effect: mapped };
}

/** Where a status pull finds things in the partner's JSON answer (ADR 0023). */
export interface StatusPullPaths {
  itemsPath: string;
  referencePath: string;
  statusPath: string;
  amountPath?: string;
  atPath?: string;
}

export interface StatusPullItem {
  /** The partner's reference for the lead (or our lead id): matched to the delivery's reference, else the lead's id. */
  reference: string;
  status: string;
  amount: Amount | null;
  at: Date | null;
}

/** `a.b.0.c` in a parsed JSON value; undefined when absent. */
export function valueAt(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** The items of one page of a status pull, or null when `itemsPath` is not an array there. */
export function statusPullItems(page: unknown, paths: Pick<StatusPullPaths, 'itemsPath'>): unknown[] | null {
  const items = valueAt(page, paths.itemsPath);
  return Array.isArray(items) ? items : null;
}

export type StatusPullItemParse = { ok: true; item: StatusPullItem } | { ok: false; error: string };

/**
 * One item of a status-pull page: its reference (a string or a whole number)
 * and status (a string of 1 to 200 characters) are required; its amount (a
 * number or decimal string, at most 4 decimal places, not negative) and time
 * (an ISO 8601 string) are read when the partner's paths name them, and an
 * item whose given amount or time cannot be read is refused as a whole
 * rather than recorded without it.
 */
export function parseStatusPullItem(item: unknown, paths: StatusPullPaths): StatusPullItemParse {
  const rawReference = valueAt(item, paths.referencePath);
  const reference =
    typeof rawReference === 'string'
      ? rawReference.trim()
      : typeof rawReference === 'number' && Number.isSafeInteger(rawReference)
        ? String(rawReference)
        : '';
  if (reference === '' || reference.length > 200)
    return { ok: false, error: `${paths.referencePath}: no reference of 1 to 200 characters` };

  const status = valueAt(item, paths.statusPath);
  if (typeof status !== 'string' || status.trim() === '' || status.length > 200)
    return { ok: false, error: `${paths.statusPath}: no status of 1 to 200 characters` };

  let amount: Amount | null = null;
  const rawAmount = paths.amountPath === undefined ? undefined : valueAt(item, paths.amountPath);
  if (rawAmount !== undefined && rawAmount !== null) {
    const parsed = parseAmount(rawAmount);
    if (!parsed.ok) return { ok: false, error: `${paths.amountPath}: the amount ${parsed.message}` };
    amount = parsed.amount;
  }

  let at: Date | null = null;
  const rawAt = paths.atPath === undefined ? undefined : valueAt(item, paths.atPath);
  if (rawAt !== undefined && rawAt !== null) {
    const time = typeof rawAt === 'string' && /^\d{4}-\d{2}-\d{2}/.test(rawAt) ? Date.parse(rawAt) : NaN;
    if (Number.isNaN(time)) return { ok: false, error: `${paths.atPath}: not an ISO 8601 time` };
    at = new Date(time);
  }
  return { ok: true, item: { reference, status, amount, at } };
}
