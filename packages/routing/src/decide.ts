import type { Auction, Filters, RouteStrategy } from '@leadrouter/core';
import { matchFilters, type RoutingLead } from './filters.js';

export interface RoutingRoute {
  id: string;
  name: string;
  priority: number;
  active: boolean;
  filters: Filters | null;
  strategy: RouteStrategy;
  /** An auction route's deadline and floor as stored (null or absent: the defaults). */
  auction?: Auction | null;
  maxDeliveries: number;
  /** In list order. */
  partners: { partnerId: string; weight: number }[];
}

export interface RoutingPartner {
  id: string;
  name: string;
  active: boolean;
  paused: boolean;
  filters: Filters | null;
}

/** Why the routing decision passed over one of the route's partners. */
export type CandidateSkipReason = 'inactive' | 'paused' | 'filter' | 'missing';

export interface Skipped {
  partnerId: string;
  reason: CandidateSkipReason;
  detail?: string;
}

/**
 * What both outcomes may carry. `filterErrors`: routes passed over because
 * their filters could not be evaluated (e.g. a stored pattern that does not
 * compile), each with the reason; absent when there were none.
 */
interface DecisionNotes {
  skipped: Skipped[];
  filterErrors?: string[];
}

export type RouteDecision =
  | ({
      outcome: 'matched';
      routeId: string;
      routeName: string;
      maxDeliveries: number;
      /** Eligible partners, in the order to offer the lead. */
      candidates: string[];
    } & DecisionNotes)
  | ({ outcome: 'unmatched'; reason: string; routeId?: string; routeName?: string } & DecisionNotes);

/** The route that decides (if any), and the routes passed over because their filters could not be evaluated. */
export interface SelectedRoute {
  route: RoutingRoute | undefined;
  filterErrors: string[];
}

export interface DecideInput {
  lead: RoutingLead;
  routes: RoutingRoute[];
  partners: ReadonlyMap<string, RoutingPartner>;
  /** round_robin: this lead's position in the selected route's rotation (shared across workers). */
  rotation?: number;
  /** weighted: a source of randomness in [0, 1). */
  random?: () => number;
  /** `selectRoute(lead, routes)`, when the caller has it already (to read the route's strategy first). */
  selected?: SelectedRoute;
}

/**
 * The active route with the highest priority whose filters match decides the
 * candidates (ties: the route created first, i.e. the order given). Candidates
 * that are inactive, paused or whose own filters fail are skipped, with the
 * reason kept for the lead's history; the strategy orders the rest.
 */
export function decideRoute({
  lead,
  routes,
  partners,
  rotation = 0,
  random = Math.random,
  selected = selectRoute(lead, routes),
}: DecideInput): RouteDecision {
  const { route } = selected;
  const notes = selected.filterErrors.length > 0 ? { filterErrors: selected.filterErrors } : {};
  if (!route) return { outcome: 'unmatched', reason: 'no active route matches the lead', skipped: [], ...notes };

  const skipped: Skipped[] = [];
  const eligible: { partnerId: string; weight: number }[] = [];
  for (const entry of route.partners) {
    const partner = partners.get(entry.partnerId);
    if (!partner) {
      skipped.push({ partnerId: entry.partnerId, reason: 'missing' });
    } else if (!partner.active) {
      skipped.push({ partnerId: partner.id, reason: 'inactive' });
    } else if (partner.paused) {
      skipped.push({ partnerId: partner.id, reason: 'paused' });
    } else {
      const f = matchFilters(lead, partner.filters);
      if (f.match) eligible.push(entry);
      else skipped.push({ partnerId: partner.id, reason: 'filter', detail: f.reason });
    }
  }

  const base = { routeId: route.id, routeName: route.name, skipped, ...notes };
  if (eligible.length === 0) return { outcome: 'unmatched', reason: 'no eligible partner on the route', ...base };

  return {
    outcome: 'matched',
    ...base,
    maxDeliveries: route.maxDeliveries,
    candidates: order(route.strategy, eligible, rotation, random),
  };
}

/**
 * The route that decides: the active one with the highest priority whose
 * filters match (ties: the first in the order given, i.e. created first).
 * A route whose filters cannot be evaluated does not match, and says why.
 */
export function selectRoute(lead: RoutingLead, routes: RoutingRoute[]): SelectedRoute {
  const filterErrors: string[] = [];
  const route = routes
    .filter((r) => r.active)
    .sort((a, b) => b.priority - a.priority)
    .find((r) => {
      const f = matchFilters(lead, r.filters);
      if (!f.match && f.error) filterErrors.push(`route ${r.name}: ${f.reason}`);
      return f.match;
    });
  return { route, filterErrors };
}

function order(
  strategy: RouteStrategy,
  eligible: { partnerId: string; weight: number }[],
  rotation: number,
  random: () => number,
): string[] {
  const ids = eligible.map((e) => e.partnerId);
  switch (strategy) {
    case 'priority':
    case 'auction': // in list order: the auction ranks them by their bids (ties keep this order)
      return ids;
    case 'round_robin': {
      const start = ((rotation % ids.length) + ids.length) % ids.length;
      return [...ids.slice(start), ...ids.slice(0, start)];
    }
    case 'weighted':
      return weightedOrder(eligible, random);
  }
}

/** Random order where each next pick is proportional to weight (the first pick carries the configured share). */
export function weightedOrder(eligible: { partnerId: string; weight: number }[], random: () => number): string[] {
  const pool = [...eligible];
  const out: string[] = [];
  while (pool.length > 0) {
    const total = pool.reduce((s, e) => s + e.weight, 0);
    let x = random() * total;
    let i = 0;
    for (; i < pool.length - 1; i++) {
      x -= pool[i]!.weight;
      if (x < 0) break;
    }
    out.push(pool[i]!.partnerId);
    pool.splice(i, 1);
  }
  return out;
}
