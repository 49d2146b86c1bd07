import type { RoutingRoute } from './decide';
import type { RoutingLead } from './filters';
import { replayRoute, seededRandom, type ReplayPartner, type ReplayRules } from './replay';

const lead: RoutingLead = {
  sourceId: '11111111-1111-4111-8111-111111111111',
  name: 'John',
  phone: '+14155550100',
  email: 'john@example.com',
  geo: 'US',
  source: 'Facebook',
  fields: { age: 42 },
};

const partner = (id: string, extra: Partial<ReplayPartner> = {}): ReplayPartner => ({
  id,
  name: id,
  active: true,
  paused: false,
  filters: null,
  schedule: null,
  ...extra,
});
const route = (extra: Partial<RoutingRoute> = {}): RoutingRoute => ({
  id: 'r',
  name: 'main',
  priority: 0,
  active: true,
  filters: null,
  strategy: 'priority',
  maxDeliveries: 1,
  partners: ['a', 'b', 'c'].map((partnerId) => ({ partnerId, weight: 1 })),
  ...extra,
});
const rules = (routes: RoutingRoute[], ...ps: ReplayPartner[]): ReplayRules => ({
  routes,
  partners: new Map(ps.map((p) => [p.id, p])),
});
const noon = new Date('2026-01-05T17:00:00Z'); // Monday, 12:00 in New York
const never = () => 0;

describe('replayRoute', () => {
  it('offers the first maxDeliveries eligible candidates of the selected route, in order', () => {
    const r = rules([route({ maxDeliveries: 2 })], partner('a'), partner('b'), partner('c'));
    expect(replayRoute(lead, noon, r, 0, never)).toEqual({
      routeId: 'r',
      routeName: 'main',
      offered: ['a', 'b'],
      skipped: [],
    });
  });

  it('skips partners for their filters, pause and state, saying why', () => {
    const r = rules(
      [route()],
      partner('a', { filters: { geo: ['CA'] } }),
      partner('b', { paused: true }),
      partner('c'),
    );
    const replay = replayRoute(lead, noon, r, 0, never);
    expect(replay.offered).toEqual(['c']);
    expect(replay.skipped).toEqual([
      { partnerId: 'a', reason: expect.stringMatching(/^filter: /) },
      { partnerId: 'b', reason: 'paused' },
    ]);
  });

  it('checks each candidate’s schedule at the time the lead arrived, and takes the next one', () => {
    const mornings = { timezone: 'America/New_York', days: { mon: ['08:00-11:00'] } };
    const r = rules([route()], partner('a', { schedule: mornings }), partner('b'), partner('c'));
    const atNoon = replayRoute(lead, noon, r, 0, never);
    expect(atNoon.offered).toEqual(['b']);
    expect(atNoon.skipped).toEqual([{ partnerId: 'a', reason: 'outside its schedule (Mon 12:00 America/New_York)' }]);
    const atNine = replayRoute(lead, new Date('2026-01-05T14:00:00Z'), r, 0, never);
    expect(atNine.offered).toEqual(['a']);
  });

  it('answers no offer, with the reason, when no route matches or nobody is eligible then', () => {
    expect(replayRoute(lead, noon, rules([route({ filters: { geo: ['FR'] } })], partner('a')), 0, never)).toEqual({
      routeId: null,
      routeName: null,
      offered: [],
      skipped: [],
      reason: 'no active route matches the lead',
    });
    const closed = { timezone: 'UTC', days: {} };
    const r = rules([route({ partners: [{ partnerId: 'a', weight: 1 }] })], partner('a', { schedule: closed }));
    expect(replayRoute(lead, noon, r, 0, never)).toMatchObject({
      routeName: 'main',
      offered: [],
      reason: 'no eligible partner on the route at that time',
    });
  });

  it('follows the strategy: round robin by position, weighted by the draw', () => {
    const r = rules([route({ strategy: 'round_robin' })], partner('a'), partner('b'), partner('c'));
    expect([0, 1, 2, 3].map((n) => replayRoute(lead, noon, r, n, never).offered[0])).toEqual(['a', 'b', 'c', 'a']);
    const w = rules(
      [
        route({
          strategy: 'weighted',
          partners: [
            { partnerId: 'a', weight: 1 },
            { partnerId: 'b', weight: 3 },
          ],
        }),
      ],
      partner('a'),
      partner('b'),
    );
    expect(replayRoute(lead, noon, w, 0, () => 0.1).offered).toEqual(['a']);
    expect(replayRoute(lead, noon, w, 0, () => 0.9).offered).toEqual(['b']);
  });
});

describe('seededRandom', () => {
  it('draws the same sequence for the same seed, in [0, 1), spread out', () => {
    const a = seededRandom('lead-1');
    const b = seededRandom('lead-1');
    const draws = Array.from({ length: 1000 }, () => a());
    expect(draws.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b()));
    expect(draws.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(draws.filter((x) => x < 0.5).length).toBeGreaterThan(400);
    expect(seededRandom('lead-2')()).not.toBe(seededRandom('lead-1')());
  });
});
