import type { Schedule } from '@leadrouter/core';
import { decideRoute, selectRoute, type RoutingPartner, type RoutingRoute } from './decide.js';
import type { RoutingLead } from './filters.js';
import { describeLocalTime, isWithinSchedule } from './schedule.js';

/** A partner as a replay sees it: its routing state and its schedule. */
export interface ReplayPartner extends RoutingPartner {
  schedule: Schedule | null;
}

export interface ReplayRules {
  routes: RoutingRoute[];
  partners: ReadonlyMap<string, ReplayPartner>;
}

/** What a set of rules would do with a lead, as far as a replay can tell. */
export interface Replay {
  routeId: string | null;
  routeName: string | null;
  /** The partners the lead would be offered to first (up to the route's maxDeliveries), in order. */
  offered: string[];
  /** Candidates of the route that would not be offered, and why. */
  skipped: { partnerId: string; reason: string }[];
  /** Why nothing would be offered, when nothing would. */
  reason?: string;
}

/** What a replay cannot know, said with every answer. */
export const REPLAY_LIMITS = [
  'caps: how many leads each partner had already taken in that hour and day is not replayed',
  'answers: a partner that rejected a lead would pass it to the next candidate; the replay counts first offers only',
  'round_robin positions and weighted draws are simulated (round robin in the order of the leads, weighted with a draw seeded by the lead id), so their per-partner counts are estimates',
  'active and paused are the partners’ state now, not when each lead arrived',
];

/**
 * The routing decision replayed for a stored lead: `decideRoute` (route
 * selection, the partners' active, paused and filter checks, the strategy's
 * order) and each candidate's schedule at the time the lead arrived, then the
 * first `maxDeliveries` eligible candidates. Pure: no counters, no clock, no
 * I/O. `rotation` is the lead's position in its route's round robin and
 * `random` the weighted draw (see REPLAY_LIMITS).
 */
export function replayRoute(
  lead: RoutingLead,
  at: Date,
  rules: ReplayRules,
  rotation: number,
  random: () => number,
): Replay {
  const decision = decideRoute({ lead, routes: rules.routes, partners: rules.partners, rotation, random });
  const skipped = decision.skipped.map((s) => ({
    partnerId: s.partnerId,
    reason: s.reason === 'filter' && s.detail ? `filter: ${s.detail}` : s.reason,
  }));
  const route = { routeId: decision.routeId ?? null, routeName: decision.routeName ?? null };
  if (decision.outcome === 'unmatched') return { ...route, offered: [], skipped, reason: decision.reason };

  const offered: string[] = [];
  for (const partnerId of decision.candidates) {
    if (offered.length >= decision.maxDeliveries) break;
    const partner = rules.partners.get(partnerId)!;
    if (isWithinSchedule(partner.schedule, at)) offered.push(partnerId);
    else
      skipped.push({
        partnerId,
        reason: `outside its schedule (${describeLocalTime(at, partner.schedule?.timezone)})`,
      });
  }
  return offered.length > 0
    ? { ...route, offered, skipped }
    : { ...route, offered, skipped, reason: 'no eligible partner on the route at that time' };
}

/** The route a replay would select (to count round-robin positions per route). */
export const replayedRouteOf = (lead: RoutingLead, rules: ReplayRules): RoutingRoute | undefined =>
  selectRoute(lead, rules.routes).route;

/** A deterministic draw in [0, 1) from a string (FNV-1a, then a xorshift sequence): the same lead draws the same. */
export function seededRandom(seed: string): () => number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  let x = h || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}
