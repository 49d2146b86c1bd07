import {
  ROUTING_RECORD_VERSION,
  type PartnerDecisionEntry,
  type RouteStrategy,
  type RoutingRecord,
} from '@leadrouter/core/runtime';
import type { CandidateSkipReason, RouteDecision, Skipped } from '@leadrouter/routing';

const SKIP_TEXT: Record<CandidateSkipReason, string> = {
  inactive: 'partner is inactive',
  paused: 'partner is paused',
  filter: 'partner filters do not match',
  missing: 'partner no longer exists',
};

/** The candidates the routing decision passed over, as entries of the lead's routing record. */
export function skippedEntries(skipped: readonly Skipped[], now: Date): PartnerDecisionEntry[] {
  return skipped.map((s) => ({
    partnerId: s.partnerId,
    decision: 'skipped',
    reason: s.detail ? `${SKIP_TEXT[s.reason]}: ${s.detail}` : SKIP_TEXT[s.reason],
    at: now.toISOString(),
  }));
}

/** The routing record a lead starts with: the routing decision, and the candidates it passed over. */
export function routingRecordOf(
  decision: RouteDecision,
  strategy: RouteStrategy | undefined,
  now: Date,
): RoutingRecord {
  const decisions = skippedEntries(decision.skipped, now);
  const notes = decision.filterErrors ? { filterErrors: decision.filterErrors } : {};
  switch (decision.outcome) {
    case 'unmatched':
      return {
        version: ROUTING_RECORD_VERSION,
        ...(decision.routeId ? { routeId: decision.routeId, routeName: decision.routeName, strategy } : {}),
        maxDeliveries: 0,
        candidates: [],
        reason: decision.reason,
        decisions,
        ...notes,
      };
    case 'matched':
      return {
        version: ROUTING_RECORD_VERSION,
        routeId: decision.routeId,
        routeName: decision.routeName,
        strategy,
        maxDeliveries: decision.maxDeliveries,
        candidates: decision.candidates,
        decisions,
        ...notes,
      };
  }
}
