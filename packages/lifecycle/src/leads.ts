import {
  checkQuery,
  type AttemptOutcome,
  type DeliveryStatus,
  type FieldError,
  type FeedbackEventKind,
  type FeedbackVia,
  type LeadStatus,
  normalisePhone,
  notFound,
  UUID_RE,
} from '@leadrouter/core';
import { operations, type QueryOf } from '@leadrouter/api';
import {
  LEAD_ENTRIES,
  LEAD_SEARCH,
  LEAD_SEARCH_BY_PARTNER,
  runStatement,
  sqlPool,
  type Db,
  type StatementParams,
} from '@leadrouter/db';
import { amount, amountNumber } from '@leadrouter/money';
import { moneyView, storedLines, type MoneyView } from './money.js';
import { leadReturns, type ReturnView } from './returns.js';
import { encodeCursor, type Cursor, type Page } from './cursor.js';
import { cursorOf, DEFAULT_LIMIT, instantOf, listOf, readParams, type RawParams } from './params.js';
import { findPartner, findSource, type Named } from './refs.js';

export interface LeadSearch {
  statuses?: LeadStatus[];
  /** The posting source (affiliate). */
  source?: Named;
  /** Leads offered to this partner (a delivery of any outcome). */
  partner?: Named;
  /** The lead's phone, E.164 (normalised as ingest normalises it). */
  phone?: string;
  /** The lead's email, lower-case (as ingest stores it). */
  email?: string;
  /** createdAt >= since */
  since?: Date;
  /** createdAt < until */
  until?: Date;
  limit: number;
  cursor?: Cursor;
}

/**
 * One line of a lead search: enough to pick a lead out, no personal data
 * (the lead itself is one `GET /v1/leads/:id` or `leadrouter leads show` away).
 */
export interface LeadListItem {
  id: string;
  status: LeadStatus;
  sourceId: string;
  sourceName: string | null;
  geo: string | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * A phone number as an operator types it, in E.164 as ingest stores it: the
 * international format with any spacing or punctuation (`+1 (415) 555-0100`),
 * or the digits with the country code but without the `+`.
 */
export function searchPhone(raw: string): string | null {
  return normalisePhone(raw, null) ?? (/^[\d\s().-]+$/.test(raw) ? normalisePhone(`+${raw}`, null) : null);
}

/** The lead search's parameters, as its route's schema accepted them. */
export type LeadSearchParams = QueryOf<typeof operations.searchLeads>;

/**
 * `status` (comma-separated), `source`, `partner` (id or name), `phone`, `email`, `since`, `until`, `limit`,
 * `cursor`, accepted by the schema: the phone normalised, the source and partner looked up, the cursor read and
 * `since` before `until`, their problems added to `problems`.
 */
export async function readLeadSearch(db: Db, params: LeadSearchParams, problems: FieldError[]): Promise<LeadSearch> {
  const statuses = listOf<LeadStatus>(params.status);
  const phone = params.phone === undefined ? undefined : searchPhone(params.phone);
  if (params.phone !== undefined && !phone)
    problems.push({
      field: 'phone',
      message: 'is not a phone number: give it with its country code, e.g. +1 415 555 0100',
    });
  const email = params.email?.trim().toLowerCase();
  const since = instantOf(params.since, problems, 'since');
  const until = instantOf(params.until, problems, 'until');
  const cursor = cursorOf(params.cursor, problems);
  if (since && until && since >= until) problems.push({ field: 'until', message: 'must be later than since' });
  const [source, partner] = await Promise.all([
    params.source === undefined ? undefined : findSource(db, params.source),
    params.partner === undefined ? undefined : findPartner(db, params.partner),
  ]);
  if (params.source !== undefined && !source)
    problems.push({ field: 'source', message: 'no source has this id or name' });
  if (params.partner !== undefined && !partner)
    problems.push({ field: 'partner', message: 'no partner has this id or name' });
  return {
    limit: params.limit ?? DEFAULT_LIMIT,
    ...(statuses ? { statuses } : {}),
    ...(phone ? { phone } : {}),
    ...(email ? { email } : {}),
    ...(source ? { source } : {}),
    ...(partner ? { partner } : {}),
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
    ...(cursor ? { cursor } : {}),
  };
}

/** Parameters as given (text, the CLI's options): validated by the API's schema, then read; one 422. */
export async function parseLeadSearch(db: Db, raw: RawParams): Promise<LeadSearch> {
  const schema = operations.searchLeads.query;
  const { value, problems } = readParams<LeadSearchParams>(schema, raw);
  const search = await readLeadSearch(db, value, problems);
  checkQuery(schema, problems);
  return search;
}

/**
 * The search's values for packages/db's LEAD_SEARCH (LEAD_SEARCH_BY_PARTNER adds the partner): a filter not
 * asked for is null, which the statement's planning folds away, so each filter uses its index as if the
 * statement held only the filters asked for — leads(created_at) (a status filter reads it newest first; the
 * rare states queued, routing and dead_lettered have partial indexes, ADR 0035), leads(source_id, created_at),
 * leads(phone, created_at), leads(email, created_at) and, for a partner, deliveries(partner_id, created_at) —
 * a delivery is never older than its lead, so `since` bounds the deliveries scanned too
 * (test/operations/lead-search-plans.test.ts).
 */
export function leadSearchValues(q: LeadSearch): StatementParams<typeof LEAD_SEARCH> {
  return {
    statuses: q.statuses?.length ? q.statuses : null,
    sourceId: q.source?.id ?? null,
    phone: q.phone ?? null,
    email: q.email ?? null,
    since: q.since ?? null,
    until: q.until ?? null,
    cursorAt: q.cursor?.at ?? null,
    cursorId: q.cursor?.id ?? null,
    limit: q.limit + 1,
  };
}

export async function searchLeads(db: Db, q: LeadSearch): Promise<Page<LeadListItem>> {
  const pool = sqlPool(db);
  const values = leadSearchValues(q);
  const rows = q.partner
    ? await runStatement(pool, LEAD_SEARCH_BY_PARTNER, { ...values, partnerId: q.partner.id })
    : await runStatement(pool, LEAD_SEARCH, values);
  const more = rows.length > q.limit;
  const items = more ? rows.slice(0, q.limit) : rows;
  const sourceIds = [...new Set(items.map((r) => r.sourceId))];
  const sources = await db.source.findMany({ where: { id: { in: sourceIds } }, select: { id: true, name: true } });
  const names = new Map(sources.map((s) => [s.id, s.name]));
  const last = items[items.length - 1];
  return {
    items: items.map((r) => ({
      id: r.id,
      status: r.status,
      sourceId: r.sourceId,
      sourceName: names.get(r.sourceId) ?? null,
      geo: r.geo,
      createdAt: r.createdAt.toISOString(),
      updatedAt: r.updatedAt.toISOString(),
    })),
    nextCursor: more && last ? encodeCursor({ at: last.createdAt, id: last.id }) : null,
  };
}

/** A lead as an operator sees it: everything, including its personal data and every delivery attempt. */
export interface LeadDetail {
  id: string;
  status: LeadStatus;
  createdAt: string;
  updatedAt: string;
  source: Named;
  /** When its personal data was erased (ADR 0031); its name, phone, email, fields and consent are gone then. */
  personalDataErasedAt: string | null;
  lead: {
    name: string | null;
    phone: string | null;
    email: string | null;
    geo: string | null;
    source: string | null;
    fields: unknown;
    consent: unknown;
  };
  /**
   * The routing record (route, maxDeliveries, candidates, each partner's fate) as stored, shown as it is —
   * even one this version cannot read. Code that acts on it reads it with `readRoutingRecord` (@leadrouter/core).
   */
  routing: unknown;
  events: { at: string; status: LeadStatus; partner?: string; detail?: unknown }[];
  deliveries: {
    id: string;
    partner: string;
    partnerId: string;
    status: DeliveryStatus;
    attempts: number;
    retries: number;
    lastError: string | null;
    reason: string | null;
    price: number | null;
    /** The partner's own reference for the lead, from its accepting answer (`responseMap.reference`). */
    reference: string | null;
    deadLetteredAt: string | null;
    createdAt: string;
    attemptLog: {
      attempt: number;
      outcome: AttemptOutcome;
      httpStatus: number | null;
      durationMs: number;
      error: string | null;
      /** The start of the partner's answer, as recorded (at most 2 KiB). */
      response: string | null;
      at: string;
    }[];
  }[];
  /** Revenue, cost, margin and every ledger entry (ADR 0026). */
  money: MoneyView;
  /** The partners' feedback, as received, oldest first. */
  feedback: {
    at: string;
    receivedAt: string;
    partner: string;
    event: FeedbackEventKind;
    status: string | null;
    outcome: string;
    amount: number | null;
    reason: string | null;
    eventId: string | null;
    via: FeedbackVia;
  }[];
  /** Its returns (one per sale at most). */
  returns: ReturnView[];
}

/** One lead's whole story; `currency`: the installation's CURRENCY, which its money is in. */
export async function leadDetail(db: Db, id: string, currency: string): Promise<LeadDetail> {
  if (!UUID_RE.test(id)) throw notFound('lead');
  const lead = await db.lead.findUnique({
    where: { id: id.toLowerCase() },
    include: {
      source: { select: { id: true, name: true } },
      events: { orderBy: { id: 'asc' } },
      deliveries: {
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        include: { partner: { select: { name: true } }, attemptLog: { orderBy: { attempt: 'asc' } } },
      },
      feedbackEvents: {
        orderBy: [{ receivedAt: 'asc' }, { id: 'asc' }],
        include: { partner: { select: { name: true } } },
      },
    },
  });
  if (!lead) throw notFound('lead');
  const partnerIds = [...new Set(lead.events.flatMap((e) => (e.partnerId ? [e.partnerId] : [])))];
  const partners = await db.partner.findMany({ where: { id: { in: partnerIds } }, select: { id: true, name: true } });
  const partnerNames = new Map(partners.map((p) => [p.id, p.name]));
  const [money, returns] = await Promise.all([leadMoneyOf(db, lead.id, currency), leadReturns(db, lead.id)]);
  return {
    id: lead.id,
    status: lead.status,
    createdAt: lead.createdAt.toISOString(),
    updatedAt: lead.updatedAt.toISOString(),
    source: lead.source,
    personalDataErasedAt: lead.personalDataErasedAt?.toISOString() ?? null,
    lead: {
      name: lead.name,
      phone: lead.phone,
      email: lead.email,
      geo: lead.geo,
      source: lead.subSource,
      fields: lead.fields,
      consent: lead.consent,
    },
    routing: lead.routing,
    events: lead.events.map((e) => ({
      at: e.at.toISOString(),
      status: e.status,
      ...(e.partnerId ? { partner: partnerNames.get(e.partnerId) ?? e.partnerId } : {}),
      ...(e.detail !== null ? { detail: e.detail } : {}),
    })),
    deliveries: lead.deliveries.map((d) => ({
      id: d.id,
      partner: d.partner.name,
      partnerId: d.partnerId,
      status: d.status,
      attempts: d.attempts,
      retries: d.retries,
      lastError: d.lastError,
      reason: d.reason,
      price: d.price === null ? null : Number(d.price),
      reference: d.reference,
      deadLetteredAt: d.deadLetteredAt?.toISOString() ?? null,
      createdAt: d.createdAt.toISOString(),
      attemptLog: d.attemptLog.map((a) => ({
        attempt: a.attempt,
        outcome: a.outcome,
        httpStatus: a.httpStatus,
        durationMs: a.durationMs,
        error: a.error,
        response: a.responseExcerpt,
        at: a.at.toISOString(),
      })),
    })),
    money,
    feedback: lead.feedbackEvents.map((f) => ({
      at: f.at.toISOString(),
      receivedAt: f.receivedAt.toISOString(),
      partner: f.partner.name,
      event: f.event,
      status: f.status,
      outcome: f.outcome,
      amount: f.amount === null ? null : amountNumber(amount(f.amount.toString())),
      reason: f.reason,
      eventId: f.eventId,
      via: f.via,
    })),
    returns,
  };
}

/** A lead's money, from its ledger (typed statements, as every writer reads it). */
async function leadMoneyOf(db: Db, leadId: string, currency: string): Promise<MoneyView> {
  return moneyView(leadId, storedLines(await runStatement(sqlPool(db), LEAD_ENTRIES, { leadId })), currency);
}
