/** The lead as partners see it: public fields only, no internal ids but its own. */
export interface PublicLead {
  id: string;
  name: string;
  phone: string;
  email: string | null;
  geo: string | null;
  source: string | null;
  fields: Record<string, string | number | boolean>;
}

/** A lead path as used by fieldMap: `name`, `phone`, …, or `fields.<name>`. */
export function readLeadPath(lead: PublicLead, path: string): unknown {
  if (path.startsWith('fields.')) return lead.fields[path.slice('fields.'.length)];
  switch (path) {
    case 'id':
    case 'name':
    case 'phone':
    case 'email':
    case 'geo':
    case 'source':
      return lead[path];
    default:
      return undefined;
  }
}

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
