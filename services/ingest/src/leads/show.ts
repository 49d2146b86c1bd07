import type { LeadSourceView as SourceLeadViewSchema, LeadView as LeadViewSchema } from '@leadrouter/api';
import {
  isUuid,
  maskEmail,
  maskPhone,
  notFound,
  readRoutingRecord,
  type RoutingRecord,
  type RoutingRecordRead,
  type Static,
} from '@leadrouter/core';
import { LEAD_VIEW, runStatement, SOURCE_LEAD_VIEW, sqlPool, type Db, type StatementRow } from '@leadrouter/db';
import { moneyView, payoutView, storedLines } from '@leadrouter/lifecycle';
import { amount, amountNumber } from '@leadrouter/money';

/**
 * A lead as its source sees it (README "What each party sees"): its data, its status and when each status was
 * reached, and what it earns on the lead — never which partners were offered it, what they answered, what they
 * paid, or which route decided (docs/decisions/0015-what-each-party-sees.md, 0026).
 */
export type SourceLeadView = Static<typeof SourceLeadViewSchema>;
/** A lead as the admin token sees it: everything, unmasked, with its routing, every delivery attempt and its money. */
export type LeadView = Static<typeof LeadViewSchema>;
type LeadData = LeadView['lead'];
/** The lead's own columns, as both views read them. */
type LeadRow = StatementRow<typeof SOURCE_LEAD_VIEW> | StatementRow<typeof LEAD_VIEW>;

/**
 * A lead as its source sees it: phone and email masked, its status history
 * without partners; a lead of another source does not exist for it.
 *
 * A typed statement on node-postgres (packages/db's `SOURCE_LEAD_VIEW`), not Prisma: sources poll this, and a Prisma query
 * would load Prisma's query compiler into the ingest (ADR 0009).
 */
export async function showLeadToSource(
  db: Db,
  id: string,
  sourceId: string,
  currency: string,
): Promise<SourceLeadView> {
  if (!isUuid(id)) throw notFound('lead');
  const [lead] = await runStatement(sqlPool(db), SOURCE_LEAD_VIEW, { id, sourceId });
  if (!lead) throw notFound('lead');
  return {
    id: lead.id,
    status: lead.status,
    ...(lead.reason !== null ? { reason: lead.reason } : {}),
    createdAt: lead.createdAt.toISOString(),
    sourceId: lead.sourceId,
    personalDataErasedAt: lead.erasedAt?.toISOString() ?? null,
    lead: leadData(lead, { mask: true }),
    events: lead.events.map((e) => ({ at: new Date(e.at).toISOString(), status: e.status })),
    payout: payoutView([{ party: 'source', amount: amount(lead.payout) }]),
    currency,
  };
}

/** A lead as the admin token sees it: unmasked, with partners, routing and every delivery attempt. */
export async function showLeadToAdmin(db: Db, id: string, currency: string): Promise<LeadView> {
  if (!isUuid(id)) throw notFound('lead');
  const [lead] = await runStatement(sqlPool(db), LEAD_VIEW, { id });
  if (!lead) throw notFound('lead');
  // Read through core's reader (ADR 0021); one this version cannot read is shown by why, as `leads show` does.
  const record = readRoutingRecord(lead.routing);
  const names = new Map(Object.entries(lead.partners));
  // A partner the deliveries and the routing record do not mention, or one since deleted, is shown by its id.
  const partnerName = (partnerId: string) => names.get(partnerId) ?? partnerId;
  return {
    id: lead.id,
    status: lead.status,
    createdAt: lead.createdAt.toISOString(),
    sourceId: lead.sourceId,
    personalDataErasedAt: lead.erasedAt?.toISOString() ?? null,
    lead: leadData(lead, { mask: false }),
    events: lead.events.map((e) => ({
      at: new Date(e.at).toISOString(),
      status: e.status,
      ...(e.partnerId ? { partner: partnerName(e.partnerId) } : {}),
    })),
    routing: routingOf(record, partnerName),
    deliveries: lead.attempts.map((a) => ({
      partner: a.partner,
      attempt: a.attempt,
      outcome: a.outcome,
      httpStatus: a.httpStatus,
      durationMs: a.durationMs,
      error: a.error,
      ...(a.reference !== null ? { reference: a.reference } : {}),
      at: new Date(a.at).toISOString(),
    })),
    money: moneyView(lead.id, storedLines(lead.entries.map((e) => ({ ...e, at: new Date(e.at) }))), currency),
  };
}

function leadData(lead: LeadRow, { mask }: { mask: boolean }): LeadData {
  return {
    name: lead.name,
    phone: lead.phone && mask ? maskPhone(lead.phone) : lead.phone,
    email: lead.email && mask ? maskEmail(lead.email) : lead.email,
    geo: lead.geo,
    source: lead.subSource,
    fields: lead.fields,
  };
}

type RoutingView = NonNullable<LeadView['routing']>;

/**
 * The lead's routing as the view shows it: null before it is routed; a record this version cannot read (a
 * newer version, or not one leadrouter wrote) as no route and the reason, the stored record itself being in
 * `GET /v1/admin/leads/:id`.
 */
function routingOf(read: RoutingRecordRead, name: (id: string) => string): RoutingView | null {
  switch (read.kind) {
    case 'none':
      return null;
    case 'unreadable':
      return { route: null, strategy: null, reason: `the routing record cannot be read: ${read.reason}`, partners: [] };
    case 'record':
      return routingView(read.record, name);
  }
}

/**
 * Each partner's fate, in the order it was considered: decisions as they
 * were made, then candidates never offered the lead because it was already
 * placed.
 */
function routingView(record: RoutingRecord, name: (id: string) => string): RoutingView {
  const decided = new Set(record.decisions.map((d) => d.partnerId));
  return {
    route: record.routeName ?? null,
    strategy: record.strategy ?? null,
    ...(record.reason ? { reason: record.reason } : {}),
    ...(record.filterErrors?.length ? { filterErrors: record.filterErrors } : {}),
    ...(record.pings
      ? {
          pings: record.pings.map((p) => ({
            partner: name(p.partnerId),
            outcome: p.outcome,
            ...(p.bid !== undefined ? { bid: amountNumber(amount(p.bid)) } : {}),
            ...(p.reference !== undefined ? { reference: p.reference } : {}),
            ...(p.reason !== undefined ? { reason: p.reason } : {}),
            pinged: p.pinged,
            durationMs: p.durationMs,
          })),
        }
      : {}),
    partners: [
      ...record.decisions.map((d) => ({
        partner: name(d.partnerId),
        decision: d.decision,
        ...(d.reason ? { reason: d.reason } : {}),
        at: d.at,
      })),
      ...record.candidates
        .filter((id) => !decided.has(id))
        .map((id) => ({ partner: name(id), decision: 'not_offered', reason: 'the lead was placed before its turn' })),
    ],
  };
}
