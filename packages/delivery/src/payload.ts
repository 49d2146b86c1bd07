import { readLeadPath, type PublicLead } from '@leadrouter/core';

export type { PublicLead };

/**
 * The JSON body sent to a partner: with a fieldMap (partner field -> lead
 * path) just the mapped fields (missing values are left out); without one
 * the lead's public fields.
 */
export function buildPayload(
  lead: PublicLead,
  fieldMap: Record<string, string> | null | undefined,
): Record<string, unknown> {
  if (!fieldMap) {
    const { id, name, phone, email, geo, source, fields } = lead;
    return { id, name, phone, email, geo, source, fields };
  }
  const out: Record<string, unknown> = {};
  for (const [partnerField, path] of Object.entries(fieldMap)) {
    const value = readLeadPath(lead, path);
    if (value !== undefined && value !== null) out[partnerField] = value;
  }
  return out;
}
