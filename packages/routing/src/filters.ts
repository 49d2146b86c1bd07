import { readLeadPath, type FieldCondition, type Filters, type LeadFields } from '@leadrouter/core';

/** What filters look at: the lead's public fields and who posted it. */
export interface RoutingLead extends LeadFields {
  sourceId: string;
}

export type FilterResult = { match: true } | { match: false; reason: string };

const MATCH: FilterResult = { match: true };

/** Regex conditions run on bounded input so a pattern cannot be made slow by a long value. */
const REGEX_INPUT_LIMIT = 1000;

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
    case 'regex':
      return (
        present && typeof c.value === 'string' && safeRegex(c.value).test(String(actual).slice(0, REGEX_INPUT_LIMIT))
      );
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

const regexCache = new Map<string, RegExp>();

function safeRegex(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (!re) {
    re = new RegExp(pattern);
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(pattern, re);
  }
  return re;
}

/** All given parts must match; the first that does not is the reason. */
export function matchFilters(lead: RoutingLead, filters: Filters | null | undefined): FilterResult {
  if (!filters) return MATCH;
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
    if (!matchCondition(lead, c)) {
      return {
        match: false,
        reason: `${c.field} ${c.op}${c.value === undefined ? '' : ' ' + JSON.stringify(c.value)} failed`,
      };
    }
  }
  return MATCH;
}
