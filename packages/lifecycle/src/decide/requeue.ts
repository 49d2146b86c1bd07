import type { DeliveryStatus, LeadStatus } from '@leadrouter/core';
import { saleLimit } from './superseded.js';

/** Why a dead letter was not requeued (the admin API's `reason`, and the bulk retry's `skipped` counts). */
export const REQUEUE_SKIP_REASONS = [
  'not_dead_lettered',
  'sold',
  'busy',
  'partner_paused',
  'partner_inactive',
  'personal_data_erased',
] as const;
export type RequeueSkipReason = (typeof REQUEUE_SKIP_REASONS)[number];

/** A delivery an operator asked to retry, as read under its lead's lock. */
export interface RequeueCandidate {
  id: string;
  leadId: string;
  status: DeliveryStatus;
  partnerActive: boolean;
  partnerPaused: boolean;
}

/** The delivery's lead, as read under its lock. */
export interface RequeueLead {
  status: LeadStatus;
  /** Its deliveries accepted and pending now. */
  accepted: number;
  pending: number;
  /** As its routing record holds it (undefined when the record does not say, or cannot be read). */
  maxDeliveries: number | undefined;
  /** Its personal data was erased (ADR 0031): there is nothing left to send a partner. */
  erased?: boolean;
}

/**
 * `requeue` the dead letter for a fresh round of attempts — `reopensLead`
 * when its lead had settled unsold (`dead_lettered`, `unsold`, `unmatched`)
 * and goes back to `routing` with it (said once per lead, with its first
 * requeued delivery) — or `skip` it, saying why.
 */
export type RequeueDecision =
  | { outcome: 'requeue'; reopensLead: boolean }
  | { outcome: 'skip'; reason: RequeueSkipReason; deliveryStatus?: DeliveryStatus };

/** Lead statuses that are final but not sold: a requeued delivery reopens them, so the worker settles them again. */
const REOPENS: readonly LeadStatus[] = ['dead_lettered', 'unsold', 'unmatched'];

/**
 * The dead-letter requeue decision, for each of a batch, in the order given.
 * Exclusivity holds: a dead letter is requeued only while its lead has fewer
 * accepted plus in-flight deliveries than its route's `maxDeliveries` —
 * counting those requeued earlier in the same batch. A superseded dead
 * letter (its lead sold through others to `maxDeliveries` partners) is
 * `sold`, whatever the counts say now. A paused or inactive partner gets
 * nothing until an operator resumes or reactivates it. A lead whose personal
 * data was erased is never sent again.
 */
export function decideRequeues<T extends RequeueCandidate>(
  candidates: readonly T[],
  leads: ReadonlyMap<string, RequeueLead>,
): { candidate: T; decision: RequeueDecision }[] {
  const inFlight = new Map<string, number>();
  const reopened = new Set<string>();
  return candidates.map((candidate) => ({ candidate, decision: decide(candidate) }));

  function decide(d: T): RequeueDecision {
    const lead = leads.get(d.leadId);
    const limit = saleLimit(lead?.maxDeliveries);
    const accepted = lead?.accepted ?? 0;
    const pending = inFlight.get(d.leadId) ?? lead?.pending ?? 0;
    if (d.status === 'superseded') return { outcome: 'skip', reason: 'sold', deliveryStatus: d.status };
    if (d.status !== 'dead_lettered') return { outcome: 'skip', reason: 'not_dead_lettered', deliveryStatus: d.status };
    if (lead?.erased) return { outcome: 'skip', reason: 'personal_data_erased' };
    if (!d.partnerActive) return { outcome: 'skip', reason: 'partner_inactive' };
    if (d.partnerPaused) return { outcome: 'skip', reason: 'partner_paused' };
    if (accepted >= limit) return { outcome: 'skip', reason: 'sold' };
    if (accepted + pending >= limit) return { outcome: 'skip', reason: 'busy' };
    inFlight.set(d.leadId, pending + 1);
    const reopensLead = lead !== undefined && REOPENS.includes(lead.status) && !reopened.has(d.leadId);
    if (reopensLead) reopened.add(d.leadId);
    return { outcome: 'requeue', reopensLead };
  }
}
