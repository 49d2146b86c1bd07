import type { LeadStatus, PostbackEvent } from './states.js';

/**
 * What a source's `postbackUrl` is sent about its lead (README "Postbacks (for
 * sources)"), in the source's own terms only: the lead, its status — or the
 * feedback event (`converted`, `returned`, `reversed`) that happened to it —
 * when, what the source earns or gives back for it (`payout`, signed: its own
 * ledger lines, never a partner's price) and a reason in its terms (a return's
 * reason); never which partner bought it or what a partner answered
 * (docs/decisions/0015-what-each-party-sees.md, 0026).
 */
export interface PostbackBody {
  id: string;
  status: LeadStatus | PostbackEvent;
  payout?: number;
  reason?: string;
  at: string;
}

/** The postback body for lead `leadId` reaching `status` (or having `status` happen to it) at `at`: nothing else goes in it. */
export function postbackBody(
  leadId: string,
  status: LeadStatus | PostbackEvent,
  at: Date,
  extra: { payout?: number | null; reason?: string | null } = {},
): PostbackBody {
  return {
    id: leadId,
    status,
    ...(extra.payout !== undefined && extra.payout !== null ? { payout: extra.payout } : {}),
    ...(extra.reason ? { reason: extra.reason } : {}),
    at: at.toISOString(),
  };
}
