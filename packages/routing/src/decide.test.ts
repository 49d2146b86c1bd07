import fc from 'fast-check';
import { decideRoute, weightedOrder, type RoutingPartner, type RoutingRoute } from './decide';
import { matchCondition, matchFilters, type RoutingLead } from './filters';

const lead: RoutingLead = {
  sourceId: '11111111-1111-4111-8111-111111111111',
  name: 'John',
  phone: '+14155550100',
  email: 'john@example.com',
  geo: 'US',
  source: 'Facebook',
  fields: { zip: '94107', age: 42, vip: true },
};

const partner = (id: string, extra: Partial<RoutingPartner> = {}): RoutingPartner => ({
  id,
  name: id,
  active: true,
  paused: false,
  filters: null,
  ...extra,
});
const route = (id: string, extra: Partial<RoutingRoute> = {}): RoutingRoute => ({
  id,
  name: id,
  priority: 0,
  active: true,
  filters: null,
  strategy: 'priority',
  maxDeliveries: 1,
  partners: [
    { partnerId: 'a', weight: 1 },
    { partnerId: 'b', weight: 1 },
    { partnerId: 'c', weight: 1 },
  ],
  ...extra,
});
const partners = new Map(['a', 'b', 'c'].map((id) => [id, partner(id)]));

describe('filter conditions', () => {
  const cases: [string, Parameters<typeof matchCondition>[1], boolean][] = [
    ['eq on a top-level field', { field: 'geo', op: 'eq', value: 'US' }, true],
    ['eq is false on a different value', { field: 'geo', op: 'eq', value: 'CA' }, false],
    ['eq compares numbers given as strings', { field: 'fields.zip', op: 'eq', value: 94107 }, true],
    ['ne', { field: 'geo', op: 'ne', value: 'CA' }, true],
    ['ne on a missing field matches', { field: 'fields.nope', op: 'ne', value: 'x' }, true],
    ['in', { field: 'source', op: 'in', value: ['Google', 'Facebook'] }, true],
    ['in without the value', { field: 'source', op: 'in', value: ['Google'] }, false],
    ['not_in', { field: 'source', op: 'not_in', value: ['Google'] }, true],
    ['not_in with the value', { field: 'source', op: 'not_in', value: ['Facebook'] }, false],
    ['gt', { field: 'fields.age', op: 'gt', value: 41 }, true],
    ['gt at the boundary', { field: 'fields.age', op: 'gt', value: 42 }, false],
    ['gte at the boundary', { field: 'fields.age', op: 'gte', value: 42 }, true],
    ['lt', { field: 'fields.age', op: 'lt', value: 43 }, true],
    ['lte at the boundary', { field: 'fields.age', op: 'lte', value: 42 }, true],
    ['lt on a non-number is false', { field: 'name', op: 'lt', value: 5 }, false],
    ['gt on a missing field is false', { field: 'fields.nope', op: 'gt', value: 0 }, false],
    ['exists', { field: 'email', op: 'exists' }, true],
    ['exists on a missing custom field', { field: 'fields.nope', op: 'exists' }, false],
    ['exists: false on a missing field', { field: 'fields.nope', op: 'exists', value: false }, true],
    ['regex', { field: 'phone', op: 'regex', value: '^\\+1415' }, true],
    ['regex not matching', { field: 'email', op: 'regex', value: '@gmail\\.com$' }, false],
    ['eq on a boolean field', { field: 'fields.vip', op: 'eq', value: true }, true],
  ];
  it.each(cases)('%s', (_name, condition, expected) => {
    expect(matchCondition(lead, condition)).toBe(expected);
  });
});

describe('matchFilters', () => {
  it('needs every given part to match, and says which did not', () => {
    expect(matchFilters(lead, { geo: ['US', 'CA'], source: ['Facebook'], sourceIds: [lead.sourceId] })).toEqual({
      match: true,
    });
    expect(matchFilters(lead, { geo: ['CA'] })).toEqual({ match: false, reason: expect.stringContaining('geo US') });
    expect(matchFilters(lead, { sourceIds: ['22222222-2222-4222-8222-222222222222'] })).toMatchObject({ match: false });
    expect(
      matchFilters(lead, {
        fields: [
          { field: 'fields.age', op: 'gte', value: 18 },
          { field: 'geo', op: 'eq', value: 'CA' },
        ],
      }),
    ).toMatchObject({
      match: false,
      reason: expect.stringContaining('geo eq'),
    });
  });

  it('treats empty filters as matching everything', () => {
    expect(matchFilters(lead, {})).toEqual({ match: true });
    expect(matchFilters(lead, null)).toEqual({ match: true });
  });
});

describe('decideRoute', () => {
  it('takes the active route with the highest priority whose filters match', () => {
    const routes = [
      route('low', { priority: 1 }),
      route('high-no-match', { priority: 100, filters: { geo: ['CA'] } }),
      route('high', { priority: 50, partners: [{ partnerId: 'c', weight: 1 }] }),
      route('inactive', { priority: 1000, active: false }),
    ];
    expect(decideRoute({ lead, routes, partners })).toMatchObject({
      outcome: 'matched',
      routeId: 'high',
      candidates: ['c'],
    });
  });

  it('is unmatched when no route matches', () => {
    expect(decideRoute({ lead, routes: [route('r', { filters: { geo: ['CA'] } })], partners })).toMatchObject({
      outcome: 'unmatched',
    });
    expect(decideRoute({ lead, routes: [], partners })).toMatchObject({ outcome: 'unmatched' });
  });

  it('skips inactive, paused and filtered-out partners, saying why', () => {
    const ps = new Map([
      ['a', partner('a', { active: false })],
      ['b', partner('b', { paused: true })],
      ['c', partner('c', { filters: { geo: ['CA'] } })],
    ]);
    const d = decideRoute({ lead, routes: [route('r')], partners: ps });
    expect(d).toMatchObject({
      outcome: 'unmatched',
      skipped: [
        { partnerId: 'a', reason: 'inactive' },
        { partnerId: 'b', reason: 'paused' },
        { partnerId: 'c', reason: 'filter', detail: expect.stringContaining('geo') },
      ],
    });
  });

  it('passes over a route whose filters cannot be evaluated, recording why, and decides on the next', () => {
    const broken = { fields: [{ field: 'fields.zip', op: 'regex' as const, value: '(' }] };
    const routes = [
      route('broken', { name: 'Broken', priority: 100, filters: broken }),
      route('next', { priority: 50, partners: [{ partnerId: 'c', weight: 1 }] }),
      route('never evaluated', { name: 'Later', priority: 1, filters: broken }),
    ];
    expect(decideRoute({ lead, routes, partners })).toEqual({
      outcome: 'matched',
      routeId: 'next',
      routeName: 'next',
      maxDeliveries: 1,
      candidates: ['c'],
      skipped: [],
      filterErrors: [expect.stringMatching(/^route Broken: fields\.zip regex "\(" is not a valid RE2 pattern: /)],
    });
    expect(decideRoute({ lead, routes: [routes[0]!], partners })).toMatchObject({
      outcome: 'unmatched',
      reason: 'no active route matches the lead',
      filterErrors: [expect.stringContaining('route Broken')],
    });
  });

  it('skips a partner whose filters cannot be evaluated, saying why, and offers the others', () => {
    const ps = new Map([
      ...partners,
      ['b', partner('b', { filters: { fields: [{ field: 'name', op: 'regex', value: '(a)\\1' }] } })],
    ]);
    const d = decideRoute({ lead, routes: [route('r')], partners: ps });
    expect(d).toMatchObject({
      outcome: 'matched',
      candidates: ['a', 'c'],
      skipped: [{ partnerId: 'b', reason: 'filter', detail: expect.stringContaining('is not a valid RE2 pattern') }],
    });
    expect(d).not.toHaveProperty('filterErrors');
  });

  it('orders by list (priority), rotation (round_robin) and weight (weighted)', () => {
    expect(decideRoute({ lead, routes: [route('r')], partners })).toMatchObject({ candidates: ['a', 'b', 'c'] });
    const rr = route('r', { strategy: 'round_robin' });
    expect(decideRoute({ lead, routes: [rr], partners, rotation: 1 })).toMatchObject({ candidates: ['b', 'c', 'a'] });
    expect(decideRoute({ lead, routes: [rr], partners, rotation: 5 })).toMatchObject({ candidates: ['c', 'a', 'b'] });
    const w = route('r', { strategy: 'weighted' });
    expect(decideRoute({ lead, routes: [w], partners, random: () => 0.99 })).toMatchObject({
      candidates: ['c', 'b', 'a'],
    });
  });

  it('round_robin spreads consecutive leads evenly', () => {
    const rr = route('r', { strategy: 'round_robin' });
    const firsts = Array.from({ length: 30 }, (_, i) => {
      const d = decideRoute({ lead, routes: [rr], partners, rotation: i });
      return d.outcome === 'matched' ? d.candidates[0] : undefined;
    });
    expect(firsts.filter((x) => x === 'a')).toHaveLength(10);
    expect(firsts.filter((x) => x === 'b')).toHaveLength(10);
  });
});

describe('weightedOrder', () => {
  it('always returns every candidate exactly once', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 10 }),
        fc.double({ min: 0, max: 0.9999999, noNaN: true }),
        (weights, r) => {
          const eligible = weights.map((weight, i) => ({ partnerId: `p${i}`, weight }));
          const out = weightedOrder(eligible, () => r);
          expect([...out].sort()).toEqual(eligible.map((e) => e.partnerId).sort());
        },
      ),
    );
  });

  it('picks first in proportion to weight', () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const eligible = [
      { partnerId: 'a', weight: 3 },
      { partnerId: 'b', weight: 1 },
    ];
    const n = 4000;
    const a = Array.from({ length: n }, () => weightedOrder(eligible, random)[0]).filter((x) => x === 'a').length;
    expect(a / n).toBeGreaterThan(0.72);
    expect(a / n).toBeLessThan(0.78);
  });
});
