import type { LeadStatus } from '@leadrouter/core';

/** A lead whose erasure was asked, as its row lock reads it. */
export interface ErasureTarget {
  status: LeadStatus;
  /** When its personal data was erased, if it was. */
  erasedAt: Date | null;
  /** Whether a delivery of it is pending (a retried dead letter of a sold lead is, while its status is settled). */
  pending: boolean;
}

/**
 * What an operator's erasure of one lead does (ADR 0031): `erase` it now;
 * nothing when it was erased before (`already_erased`, with when: the request
 * is idempotent); or wait while it is still being delivered
 * (`in_flight`: queued, routing, or with a pending delivery), since a
 * partner's next attempt would need what is erased. The caller answers that
 * with a 409 and the operator asks again once the lead has settled.
 */
export type ErasureDecision =
  { outcome: 'erase' } | { outcome: 'already_erased'; at: Date } | { outcome: 'in_flight'; status: LeadStatus };

export function decideErasure(lead: ErasureTarget): ErasureDecision {
  if (lead.erasedAt) return { outcome: 'already_erased', at: lead.erasedAt };
  if (lead.status === 'queued' || lead.status === 'routing' || lead.pending)
    return { outcome: 'in_flight', status: lead.status };
  return { outcome: 'erase' };
}
