import type { DeliveryStatus } from '@leadrouter/core';

/**
 * How many partners may buy the lead, from the `maxDeliveries` its routing
 * record holds: 1 (exclusive) unless a whole number >= 1 — an unmatched
 * lead's 0, and a record that does not say, read as exclusive.
 */
export function saleLimit(maxDeliveries: number | undefined): number {
  return maxDeliveries !== undefined && Number.isInteger(maxDeliveries) && maxDeliveries >= 1 ? maxDeliveries : 1;
}

/**
 * What becomes of a lead's dead letters: `keep` them while the lead has room
 * to be sold (`room_left`: retrying one may still fill a shared lead's
 * share) or when it has none (`no_dead_letters`); `supersede` them all once
 * as many partners have bought the lead as its route allows.
 */
export type SupersedeDecision =
  | { outcome: 'keep'; why: 'room_left' | 'no_dead_letters' }
  | { outcome: 'supersede'; deliveryIds: [string, ...string[]] };

/**
 * The "superseded" rule: once a lead is sold to `maxDeliveries` partners — an
 * exclusive sale, or a shared route's share filled — its dead letters can
 * only sell it once too often. They leave the dead letters (the list, the
 * gauge, bulk retries) and stay in the lead's history as `superseded`
 * (ADR 0007, addendum).
 */
export function decideSupersede(
  deliveries: readonly { id: string; status: DeliveryStatus }[],
  maxDeliveries: number | undefined,
): SupersedeDecision {
  const accepted = deliveries.filter((d) => d.status === 'accepted').length;
  if (accepted < saleLimit(maxDeliveries)) return { outcome: 'keep', why: 'room_left' };
  const [first, ...rest] = deliveries.filter((d) => d.status === 'dead_lettered').map((d) => d.id);
  return first === undefined
    ? { outcome: 'keep', why: 'no_dead_letters' }
    : { outcome: 'supersede', deliveryIds: [first, ...rest] };
}
