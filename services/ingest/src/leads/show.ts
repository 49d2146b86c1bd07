import type { LeadSourceView as SourceLeadViewSchema, LeadView as LeadViewSchema } from '@leadrouter/api';
import {
  isUuid,
  maskEmail,
  maskPhone,
  notFound,
  type AttemptOutcome,
  type LeadStatus,
  type Static,
} from '@leadrouter/core';
import { sqlPool, type Db } from '@leadrouter/db';

/**
 * A lead as its source sees it (README "What each party sees"): its data, its status and when each status was
 * reached — never which partners were offered it, what they answered, what they paid, or which route decided
 * (docs/decisions/0015-what-each-party-sees.md).
 */
export type SourceLeadView = Static<typeof SourceLeadViewSchema>;
/** A lead as the admin token sees it: everything, unmasked, with its routing and every delivery attempt. */
export type LeadView = Static<typeof LeadViewSchema>;
type LeadData = LeadView['lead'];

// Timestamps inside JSON as epoch milliseconds (exact: the columns are timestamptz(3)).
const epochMs = (column: string) => `(extract(epoch FROM ${column}) * 1000)::bigint`;

/**
 * The lead as its source sees it, in one round trip: its data and its status changes in the order they were
 * recorded; nothing of its routing or deliveries is read. Another source's lead is no row.
 */
const SOURCE_LEAD_VIEW = `SELECT l.id, l.source_id, l.status, l.name, l.phone, l.email, l.geo, l.sub_source, l.fields,
    l.created_at,
    (SELECT coalesce(json_agg(json_build_object('at', ${epochMs('e.at')}, 'status', e.status) ORDER BY e.id), '[]')
       FROM lead_events e WHERE e.lead_id = l.id) AS events
  FROM leads l
  WHERE l.id = $1 AND l.source_id = $2`;

/**
 * The lead with its history, in one round trip: its events in the order they were recorded; every attempt of every
 * delivery, oldest first (attempts of the same millisecond by partner id, then attempt number, the order of the
 * Prisma query this replaced); the names of the partners its deliveries and routing record mention.
 */
const LEAD_VIEW = `SELECT l.id, l.source_id, l.status, l.name, l.phone, l.email, l.geo, l.sub_source, l.fields, l.routing,
    l.created_at,
    (SELECT coalesce(json_agg(json_build_object('at', ${epochMs('e.at')}, 'status', e.status, 'partnerId', e.partner_id)
              ORDER BY e.id), '[]')
       FROM lead_events e WHERE e.lead_id = l.id) AS events,
    (SELECT coalesce(json_agg(json_build_object('partner', p.name, 'attempt', a.attempt, 'outcome', a.outcome,
              'httpStatus', a.http_status, 'durationMs', a.duration_ms, 'error', a.error, 'at', ${epochMs('a.at')})
              ORDER BY a.at, d.partner_id, a.attempt), '[]')
       FROM deliveries d JOIN delivery_attempts a ON a.delivery_id = d.id JOIN partners p ON p.id = d.partner_id
       WHERE d.lead_id = l.id) AS attempts,
    (SELECT coalesce(json_object_agg(p.id, p.name), '{}')
       FROM partners p
       WHERE p.id = ANY (ARRAY(
         SELECT d.partner_id FROM deliveries d WHERE d.lead_id = l.id
         UNION SELECT (jsonb_path_query(l.routing, 'lax $.decisions[*].partnerId') #>> '{}')::uuid
         UNION SELECT (jsonb_path_query(l.routing, 'lax $.candidates[*]') #>> '{}')::uuid))) AS partners
  FROM leads l
  WHERE l.id = $1`;

// node-postgres returns uuid, varchar and enums as strings, timestamptz as Date, json and jsonb parsed.
interface LeadRow {
  id: string;
  source_id: string;
  status: LeadStatus;
  name: string;
  phone: string;
  email: string | null;
  geo: string | null;
  sub_source: string | null;
  fields: LeadData['fields'];
  created_at: Date;
}

interface SourceLeadViewRow extends LeadRow {
  events: { at: number; status: LeadStatus }[];
}

interface LeadViewRow extends LeadRow {
  routing: RoutingRecord | null;
  events: { at: number; status: LeadStatus; partnerId: string | null }[];
  attempts: {
    partner: string;
    attempt: number;
    outcome: AttemptOutcome;
    httpStatus: number | null;
    durationMs: number;
    error: string | null;
    at: number;
  }[];
  /** Partner id → name, for the partners of the lead's deliveries and routing record. */
  partners: Record<string, string>;
}

/**
 * A lead as its source sees it: phone and email masked, its status history
 * without partners; a lead of another source does not exist for it.
 *
 * SQL on node-postgres, not Prisma: sources poll this, and a Prisma query
 * would load Prisma's query compiler into the ingest (ADR 0009).
 */
export async function showLeadToSource(db: Db, id: string, sourceId: string): Promise<SourceLeadView> {
  if (!isUuid(id)) throw notFound('lead');
  const lead = (await sqlPool(db).query<SourceLeadViewRow>(SOURCE_LEAD_VIEW, [id, sourceId])).rows[0];
  if (!lead) throw notFound('lead');
  return {
    id: lead.id,
    status: lead.status,
    createdAt: lead.created_at.toISOString(),
    sourceId: lead.source_id,
    lead: leadData(lead, { mask: true }),
    events: lead.events.map((e) => ({ at: new Date(e.at).toISOString(), status: e.status })),
  };
}

/** A lead as the admin token sees it: unmasked, with partners, routing and every delivery attempt. */
export async function showLeadToAdmin(db: Db, id: string): Promise<LeadView> {
  if (!isUuid(id)) throw notFound('lead');
  const lead = (await sqlPool(db).query<LeadViewRow>(LEAD_VIEW, [id])).rows[0];
  if (!lead) throw notFound('lead');
  const record = lead.routing;
  const names = new Map(Object.entries(lead.partners));
  // A partner the deliveries and the routing record do not mention, or one since deleted, is shown by its id.
  const partnerName = (partnerId: string) => names.get(partnerId) ?? partnerId;
  return {
    id: lead.id,
    status: lead.status,
    createdAt: lead.created_at.toISOString(),
    sourceId: lead.source_id,
    lead: leadData(lead, { mask: false }),
    events: lead.events.map((e) => ({
      at: new Date(e.at).toISOString(),
      status: e.status,
      ...(e.partnerId ? { partner: partnerName(e.partnerId) } : {}),
    })),
    routing: record ? routingView(record, partnerName) : null,
    deliveries: lead.attempts.map((a) => ({
      partner: a.partner,
      attempt: a.attempt,
      outcome: a.outcome,
      httpStatus: a.httpStatus,
      durationMs: a.durationMs,
      error: a.error,
      at: new Date(a.at).toISOString(),
    })),
  };
}

function leadData(lead: LeadRow, { mask }: { mask: boolean }): LeadData {
  return {
    name: lead.name,
    phone: mask ? maskPhone(lead.phone) : lead.phone,
    email: lead.email && mask ? maskEmail(lead.email) : lead.email,
    geo: lead.geo,
    source: lead.sub_source,
    fields: lead.fields,
  };
}

/** The subset of the worker's `leads.routing` record that the view reads. */
interface RoutingRecord {
  routeName?: string;
  strategy?: string;
  candidates?: string[];
  reason?: string;
  decisions?: { partnerId: string; decision: string; reason?: string; at: string }[];
  filterErrors?: string[];
}

/**
 * Each partner's fate, in the order it was considered: decisions as they
 * were made, then candidates never offered the lead because it was already
 * placed.
 */
function routingView(record: RoutingRecord, name: (id: string) => string): NonNullable<LeadView['routing']> {
  const decided = new Set((record.decisions ?? []).map((d) => d.partnerId));
  return {
    route: record.routeName ?? null,
    strategy: record.strategy ?? null,
    ...(record.reason ? { reason: record.reason } : {}),
    ...(record.filterErrors?.length ? { filterErrors: record.filterErrors } : {}),
    partners: [
      ...(record.decisions ?? []).map((d) => ({
        partner: name(d.partnerId),
        decision: d.decision,
        ...(d.reason ? { reason: d.reason } : {}),
        at: d.at,
      })),
      ...(record.candidates ?? [])
        .filter((id) => !decided.has(id))
        .map((id) => ({ partner: name(id), decision: 'not_offered', reason: 'the lead was placed before its turn' })),
    ],
  };
}
