import { maskEmail, maskPhone, notFound } from '@leadrouter/core';
import type { Db } from '@leadrouter/db';

export interface LeadView {
  id: string;
  status: string;
  createdAt: string;
  sourceId: string;
  lead: {
    name: string;
    phone: string;
    email: string | null;
    geo: string | null;
    source: string | null;
    fields: unknown;
  };
  events: { at: string; status: string; partner?: string }[];
  /** Explainable routing: every partner the route named, and what became of it. */
  routing: {
    route: string | null;
    strategy: string | null;
    partners: { partner: string; decision: string; reason?: string; at?: string }[];
    reason?: string;
  } | null;
  deliveries: {
    partner: string;
    attempt: number;
    outcome: string;
    httpStatus: number | null;
    durationMs: number;
    error: string | null;
    at: string;
  }[];
}

/**
 * A lead with its history, as its source or an operator sees it. Sources see
 * phone and email masked; a lead of another source does not exist for them.
 */
export async function showLead(db: Db, id: string, viewer: { sourceId?: string; admin: boolean }): Promise<LeadView> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw notFound('lead');
  const lead = await db.lead.findUnique({
    where: { id },
    include: {
      events: { orderBy: { id: 'asc' }, include: {} },
      deliveries: { include: { partner: { select: { name: true } }, attemptLog: { orderBy: { attempt: 'asc' } } } },
    },
  });
  if (!lead || (!viewer.admin && lead.sourceId !== viewer.sourceId)) throw notFound('lead');
  const record = lead.routing as RoutingRecord | null;
  const mentioned = [...new Set([...(record?.decisions ?? []).map((d) => d.partnerId), ...(record?.candidates ?? [])])];
  const partnerNames = new Map(
    (await db.partner.findMany({ where: { id: { in: mentioned } }, select: { id: true, name: true } })).map((p) => [
      p.id,
      p.name,
    ]),
  );
  for (const d of lead.deliveries) partnerNames.set(d.partnerId, d.partner.name);
  const mask = !viewer.admin;
  return {
    id: lead.id,
    status: lead.status,
    createdAt: lead.createdAt.toISOString(),
    sourceId: lead.sourceId,
    lead: {
      name: lead.name,
      phone: mask ? maskPhone(lead.phone) : lead.phone,
      email: lead.email && mask ? maskEmail(lead.email) : lead.email,
      geo: lead.geo,
      source: lead.subSource,
      fields: lead.fields,
    },
    events: lead.events.map((e) => ({
      at: e.at.toISOString(),
      status: e.status,
      ...(e.partnerId ? { partner: partnerNames.get(e.partnerId) ?? e.partnerId } : {}),
    })),
    routing: record ? routingView(record, (id) => partnerNames.get(id) ?? id) : null,
    deliveries: lead.deliveries
      .flatMap((d) =>
        d.attemptLog.map((a) => ({
          partner: d.partner.name,
          attempt: a.attempt,
          outcome: a.outcome,
          httpStatus: a.httpStatus,
          durationMs: a.durationMs,
          error: a.error,
          at: a.at.toISOString(),
        })),
      )
      .sort((a, b) => a.at.localeCompare(b.at)),
  };
}

/** The subset of the worker's `leads.routing` record that the view reads. */
interface RoutingRecord {
  routeName?: string;
  strategy?: string;
  candidates?: string[];
  reason?: string;
  decisions?: { partnerId: string; decision: string; reason?: string; at: string }[];
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
