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
  const partnerNames = new Map(lead.deliveries.map((d) => [d.partnerId, d.partner.name]));
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
