import type { LeadStatus } from './states.js';

/**
 * What a source's `postbackUrl` is sent about its lead (README "Postbacks (for
 * sources)"), in the source's own terms only: the lead, its status and when
 * it reached it — never which partner bought it, at what price, or what a
 * partner answered (docs/decisions/0015-what-each-party-sees.md). `reason`
 * is for a reason in the source's terms (`returned: <reason>`); no status
 * reported today has one beyond the status itself, so none is sent yet.
 */
export interface PostbackBody {
  id: string;
  status: LeadStatus;
  reason?: string;
  at: string;
}

/** The postback body for lead `leadId` reaching `status` at `at`: nothing else goes in it. */
export function postbackBody(leadId: string, status: LeadStatus, at: Date): PostbackBody {
  return { id: leadId, status, at: at.toISOString() };
}
