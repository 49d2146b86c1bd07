import { RESERVED_HEADERS } from '@leadrouter/core/runtime';
import { buildPayload, type PublicLead } from './payload.js';
import type { OutgoingRequest } from './send.js';
import { signatureHeaders } from './signing.js';

export interface PartnerTarget {
  id: string;
  url: string;
  method: string;
  headers: Record<string, string>;
  fieldMap: Record<string, string> | null;
  timeoutMs: number;
  /** Signing secret: with one, the request carries Standard Webhooks headers (signing.ts). */
  secret?: string | null;
}

/**
 * The request for one delivery. `Idempotency-Key` is stable per lead x
 * partner, the same on every retry, so a partner can drop a repeat. With a
 * secret, `webhook-id` is that same delivery id (Standard Webhooks: the same
 * message keeps its id across retries) and `webhook-timestamp` is `now`, the
 * attempt's time.
 */
export function buildRequest(
  partner: PartnerTarget,
  lead: PublicLead,
  deliveryId: string,
  now: Date = new Date(),
  pingReference?: string,
): OutgoingRequest {
  const body = JSON.stringify(buildPayload(lead, partner.fieldMap, pingReference));
  return {
    url: partner.url,
    method: partner.method,
    body,
    timeoutMs: partner.timeoutMs,
    headers: {
      // Lower-cased so the partner's headers cannot shadow ours under another spelling; the reserved ones
      // (framing, signing, ours) are refused when a partner is saved, and dropped here from older rows.
      ...Object.fromEntries(
        Object.entries(partner.headers)
          .map(([k, v]) => [k.toLowerCase(), v] as const)
          .filter(([k]) => !RESERVED_HEADERS.has(k)),
      ),
      'content-type': 'application/json',
      'user-agent': 'leadrouter',
      'x-lead-id': lead.id,
      'idempotency-key': deliveryId,
      ...(pingReference !== undefined ? { 'x-ping-reference': pingReference } : {}),
      ...(partner.secret ? signatureHeaders(partner.secret, deliveryId, now, body) : {}),
    },
  };
}
