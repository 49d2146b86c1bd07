import type { DeliveryStatus, PartnerDecisionEntry, TerminalStatus } from '@leadrouter/core';

/** One of the lead's deliveries, as the advance counts them. */
export interface DeliveryCount {
  partnerId: string;
  status: DeliveryStatus;
}

/**
 * Who the lead is offered to next (the waterfall): `offer` it to up to
 * `need` of the `untried` candidates, in order — the caller checks each one
 * (paused, schedule, caps) as it comes and goes down the list past those
 * that cannot take it now; or `none`, when the lead has as many partners
 * buying or being offered it as its route allows (`share_taken`) or no
 * candidate is left to try (`no_candidates_left`).
 */
export type OfferDecision =
  | { outcome: 'offer'; need: number; untried: string[] }
  | { outcome: 'none'; why: 'share_taken' | 'no_candidates_left' };

/**
 * The waterfall: a lead is offered to its route's candidates in order until
 * `maxDeliveries` of them accept; a rejection or a dead letter passes it to
 * the next one. A candidate is tried once: those with a delivery, and those
 * the routing record has a decision for (skipped, offered, answered), are
 * not offered it again.
 */
export function decideOffers(
  record: { maxDeliveries: number; candidates: readonly string[]; decisions: readonly PartnerDecisionEntry[] },
  deliveries: readonly DeliveryCount[],
): OfferDecision {
  const taken = deliveries.filter((d) => d.status === 'accepted' || d.status === 'pending').length;
  const need = record.maxDeliveries - taken;
  if (need <= 0) return { outcome: 'none', why: 'share_taken' };
  const tried = new Set([...deliveries.map((d) => d.partnerId), ...record.decisions.map((d) => d.partnerId)]);
  const untried = record.candidates.filter((id) => !tried.has(id));
  if (untried.length === 0) return { outcome: 'none', why: 'no_candidates_left' };
  return { outcome: 'offer', need, untried };
}

/**
 * Where the lead stands once the advance has offered it to whom it could:
 * `open` while a delivery is pending (or was just offered the lead), or
 * settled in its final status, with the partner that bought it when
 * `delivered`.
 */
export type FinalStatusDecision =
  { outcome: 'open' } | { outcome: 'delivered'; partnerId: string } | { outcome: Exclude<TerminalStatus, 'delivered'> };

/**
 * The final status, once nothing is pending and nothing was just offered,
 * by precedence: `delivered` when any partner accepted (a shared lead sold
 * once and dead-lettered elsewhere is delivered); else `dead_lettered` when a
 * delivery ran out of attempts (an operator may still retry it); else
 * `unsold` when partners were offered the lead and rejected it; else
 * `unmatched` (no partner could be offered it). The partner named with
 * `delivered` is the first that accepted, in the order given.
 */
export function decideFinalStatus(deliveries: readonly DeliveryCount[], offeredNow: number): FinalStatusDecision {
  if (offeredNow > 0 || deliveries.some((d) => d.status === 'pending')) return { outcome: 'open' };
  const sold = deliveries.find((d) => d.status === 'accepted');
  if (sold) return { outcome: 'delivered', partnerId: sold.partnerId };
  if (deliveries.some((d) => d.status === 'dead_lettered')) return { outcome: 'dead_lettered' };
  if (deliveries.some((d) => d.status === 'rejected')) return { outcome: 'unsold' };
  return { outcome: 'unmatched' };
}

/**
 * Where a routing lead stands when its routing record cannot be read
 * (`readRoutingRecord` says `unreadable`: a newer version, fields that do not
 * fit). The waterfall cannot go on — the candidates, the share and the
 * decisions are in the record — so what the lead already has settles it:
 * `open` while a delivery is pending (its attempts go on, and the outcome of
 * each comes back here); `delivered` when a partner accepted it (a sale is a
 * sale, whatever the record says); otherwise `dead_lettered`, the status the
 * decisions give a lead that failed for a reason of the system's rather than
 * the partners' (a delivery out of attempts): it needs an operator, and is
 * found among the leads of that status. Never `unsold` or `unmatched`: no
 * one can tell from an unreadable record whether a candidate was left.
 */
export type UnreadableRecordDecision =
  { outcome: 'open' } | { outcome: 'delivered'; partnerId: string } | { outcome: 'dead_lettered' };

export function decideUnreadableRecord(deliveries: readonly DeliveryCount[]): UnreadableRecordDecision {
  const settled = decideFinalStatus(deliveries, 0);
  switch (settled.outcome) {
    case 'open':
    case 'delivered':
      return settled;
    case 'dead_lettered':
    case 'unsold':
    case 'unmatched':
      return { outcome: 'dead_lettered' };
  }
}
