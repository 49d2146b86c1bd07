import type { Filters } from '@leadrouter/core';
import { matchCondition, matchFilters, type RoutingLead } from './filters';

const lead = (fields: RoutingLead['fields'] = {}): RoutingLead => ({
  sourceId: '11111111-1111-4111-8111-111111111111',
  name: 'John',
  phone: '+14155550100',
  email: 'John@Example.com',
  geo: 'US',
  source: 'Facebook',
  fields,
});

describe('regex conditions', () => {
  it('answer the catastrophic backtracking pattern at once, however long the value', () => {
    const condition = { field: 'fields.code', op: 'regex', value: '^([a-zA-Z0-9]+)+$' } as const;
    const started = Date.now();
    // JavaScript's RegExp backtracks for minutes on 31 characters and a mismatch at the end.
    expect(matchCondition(lead({ code: `${'a'.repeat(31)}!` }), condition)).toBe(false);
    expect(matchCondition(lead({ code: `${'a'.repeat(1000)}!` }), condition)).toBe(false);
    expect(matchCondition(lead({ code: 'a'.repeat(1000) }), condition)).toBe(true);
    // A sanity bound, generous for a loaded machine: linear time is milliseconds here.
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('match with inline flags, e.g. (?i)', () => {
    expect(matchCondition(lead(), { field: 'email', op: 'regex', value: '(?i)@example\\.com$' })).toBe(true);
    expect(matchCondition(lead(), { field: 'email', op: 'regex', value: '@example\\.com$' })).toBe(false);
  });

  it('match the whole value, however long (lead validation bounds it, not a cut)', () => {
    const condition = { field: 'fields.note', op: 'regex', value: 'end$' } as const;
    expect(matchCondition(lead({ note: `${'x'.repeat(1200)}end` }), condition)).toBe(true);
  });
});

describe('filters that cannot be evaluated', () => {
  it('a stored pattern that does not compile does not match, and says why', () => {
    const filters: Filters = { fields: [{ field: 'fields.zip', op: 'regex', value: '(' }] };
    expect(matchFilters(lead({ zip: '94107' }), filters)).toEqual({
      match: false,
      error: true,
      reason: 'fields.zip regex "(" is not a valid RE2 pattern: missing closing ): `(`, so it does not match',
    });
    expect(matchCondition(lead({ zip: '94107' }), filters.fields![0]!)).toBe(false);
  });

  it('neither do patterns JavaScript takes and RE2 does not (saved before patterns were checked)', () => {
    const backreference: Filters = { fields: [{ field: 'fields.zip', op: 'regex', value: '(9)\\1' }] };
    expect(matchFilters(lead({ zip: '99107' }), backreference)).toMatchObject({
      match: false,
      error: true,
      reason: expect.stringContaining('invalid escape sequence'),
    });
    const lookahead: Filters = { fields: [{ field: 'fields.zip', op: 'regex', value: '^9(?=4)' }] };
    expect(matchFilters(lead({ zip: '94107' }), lookahead)).toMatchObject({ match: false, error: true });
  });

  it('a regex condition without a pattern does not match', () => {
    const filters = { fields: [{ field: 'fields.zip', op: 'regex', value: 94107 }] } as Filters;
    expect(matchFilters(lead({ zip: '94107' }), filters)).toMatchObject({
      match: false,
      error: true,
      reason: expect.stringContaining('has no pattern'),
    });
  });

  it('filters of an unexpected shape do not match instead of throwing', () => {
    const filters = { fields: { field: 'geo', op: 'eq', value: 'US' } } as unknown as Filters;
    expect(matchFilters(lead(), filters)).toEqual({
      match: false,
      error: true,
      reason: expect.stringMatching(/^filters could not be evaluated \(.+\), so they do not match$/),
    });
  });

  it('reasons show a long value cut short (they are stored with every lead)', () => {
    const pattern = `(${'a'.repeat(600)}`;
    const result = matchFilters(lead(), { fields: [{ field: 'name', op: 'regex', value: pattern }] });
    expect(result).toMatchObject({ match: false, reason: expect.stringContaining('is longer than 500 characters') });
    expect((result as { reason: string }).reason.length).toBeLessThan(200);
  });
});
