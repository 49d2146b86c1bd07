import { compileRegex, readLeadPath, type LeadFields } from '@leadrouter/core/runtime';
import type { FieldCondition, Filters } from '@leadrouter/core';

/** What filters look at: the lead's public fields and who posted it. */
export interface RoutingLead extends LeadFields {
  sourceId: string;
}

/**
 * Whether filters match, and if not, the first part that did not. `error`:
 * the filters could not be evaluated as stored (a pattern that does not
 * compile, data of an unexpected shape), so they do not match.
 */
export type FilterResult = { match: true } | { match: false; reason: string; error?: true };

const MATCH: FilterResult = { match: true };

/** `field` addresses a top-level property or `fields.<name>`. */
export function readField(lead: RoutingLead, field: string): string | number | boolean | null | undefined {
  return field === 'id' ? undefined : readLeadPath(lead, field);
}

export function matchCondition(lead: RoutingLead, c: FieldCondition): boolean {
  const actual = readField(lead, c.field);
  const present = actual !== undefined && actual !== null;
  const values = Array.isArray(c.value) ? c.value : c.value === undefined ? [] : [c.value];
  switch (c.op) {
    case 'exists':
      return c.value === false ? !present : present;
    case 'eq':
      return present && looselyEqual(actual, c.value);
    case 'ne':
      return !present || !looselyEqual(actual, c.value);
    case 'in':
      return present && values.some((v) => looselyEqual(actual, v));
    case 'not_in':
      return !present || !values.some((v) => looselyEqual(actual, v));
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return present && compare(actual, c.value, c.op);
    case 'regex': {
      // RE2: linear in the value, which lead validation bounds (ADR 0013). A pattern that does not compile matches nothing.
      const re = typeof c.value === 'string' ? compileRegex(c.value) : undefined;
      return present && re?.ok === true && re.test(String(actual));
    }
  }
}

/** "42" equals 42: custom fields arrive as strings from some affiliates and numbers from others. */
function looselyEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' || typeof b === 'number') {
    const na = Number(a);
    const nb = Number(b);
    return a !== '' && b !== '' && Number.isFinite(na) && na === nb;
  }
  return String(a) === String(b);
}

function compare(actual: unknown, expected: unknown, op: 'gt' | 'gte' | 'lt' | 'lte'): boolean {
  const a = Number(actual);
  const b = Number(expected);
  if (actual === '' || !Number.isFinite(a) || !Number.isFinite(b)) return false;
  switch (op) {
    case 'gt':
      return a > b;
    case 'gte':
      return a >= b;
    case 'lt':
      return a < b;
    case 'lte':
      return a <= b;
  }
}

/**
 * All given parts must match; the first that does not is the reason. Filters
 * that cannot be evaluated do not match, with the reason: one bad filter
 * skips its route or partner, never stops the lead or the leads after it.
 */
export function matchFilters(lead: RoutingLead, filters: Filters | null | undefined): FilterResult {
  if (!filters) return MATCH;
  try {
    return evaluate(lead, filters);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { match: false, reason: `filters could not be evaluated (${message}), so they do not match`, error: true };
  }
}

function evaluate(lead: RoutingLead, filters: Filters): FilterResult {
  if (filters.sourceIds && filters.sourceIds.length > 0 && !filters.sourceIds.includes(lead.sourceId)) {
    return { match: false, reason: 'source (affiliate) not in sourceIds' };
  }
  if (filters.geo && filters.geo.length > 0 && (lead.geo === null || !filters.geo.includes(lead.geo))) {
    return { match: false, reason: `geo ${lead.geo ?? '(none)'} not in ${filters.geo.join(',')}` };
  }
  if (filters.source && filters.source.length > 0 && (lead.source === null || !filters.source.includes(lead.source))) {
    return { match: false, reason: `source ${lead.source ?? '(none)'} not allowed` };
  }
  for (const c of filters.fields ?? []) {
    const unusable = c.op === 'regex' ? unusablePattern(c.value) : undefined;
    if (unusable) return { match: false, reason: `${describe(c)} ${unusable}, so it does not match`, error: true };
    if (!matchCondition(lead, c)) return { match: false, reason: `${describe(c)} failed` };
  }
  return MATCH;
}

/** Why a regex condition's stored value cannot be used (saved before patterns were checked, or written by hand). */
function unusablePattern(value: FieldCondition['value']): string | undefined {
  if (typeof value !== 'string') return 'has no pattern (a string)';
  const re = compileRegex(value);
  return re.ok ? undefined : re.error;
}

/** A condition as reasons show it, its value cut short: reasons are stored with every lead. */
function describe(c: FieldCondition): string {
  if (c.value === undefined) return `${c.field} ${c.op}`;
  const value = JSON.stringify(c.value);
  return `${c.field} ${c.op} ${value.length > 100 ? `${value.slice(0, 100)}…` : value}`;
}
