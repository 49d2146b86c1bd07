import { readLeadPath, type PublicLead } from '@leadrouter/core/runtime';

export type { PublicLead };

/**
 * The JSON body sent to a partner: with a fieldMap (partner field -> lead
 * path) just the mapped fields (missing values are left out); without one
 * the lead's public fields.
 */
export function buildPayload(
  lead: PublicLead,
  fieldMap: Record<string, string> | null | undefined,
  pingReference?: string,
): Record<string, unknown> {
  if (!fieldMap) {
    const { id, name, phone, email, geo, source, fields } = lead;
    return { id, name, phone, email, geo, source, fields };
  }
  const out: Record<string, unknown> = {};
  for (const [partnerField, path] of Object.entries(fieldMap)) {
    // `ping.reference`: the partner's reference from the ping of the auction it won (ADR 0032).
    const value = path === 'ping.reference' ? pingReference : readLeadPath(lead, path);
    if (value !== undefined && value !== null) out[partnerField] = value;
  }
  return out;
}
