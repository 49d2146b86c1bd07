import { buildPayload, type PublicLead } from './payload.js';
import type { OutgoingRequest } from './send.js';

export interface PartnerTarget {
  id: string;
  url: string;
  method: string;
  headers: Record<string, string>;
  fieldMap: Record<string, string> | null;
  timeoutMs: number;
}

/**
 * The request for one delivery. `Idempotency-Key` is stable per lead x
 * partner, the same on every retry, so a partner can drop a repeat.
 */
export function buildRequest(partner: PartnerTarget, lead: PublicLead, deliveryId: string): OutgoingRequest {
  const body = JSON.stringify(buildPayload(lead, partner.fieldMap));
  return {
    url: partner.url,
    method: partner.method,
    body,
    timeoutMs: partner.timeoutMs,
    headers: {
      // Lower-cased so the partner's headers cannot shadow ours under another spelling.
      ...Object.fromEntries(Object.entries(partner.headers).map(([k, v]) => [k.toLowerCase(), v])),
      'content-type': 'application/json',
      'user-agent': 'leadrouter',
      'x-lead-id': lead.id,
      'idempotency-key': deliveryId,
    },
  };
}
