import {
  checkQuery,
  conflict,
  invalid,
  isUuid,
  notFound,
  RETURN_STATUSES,
  type FieldError,
  type ReturnStatus,
} from '@leadrouter/core';
import { money, type QueryOf } from '@leadrouter/api';
import {
  DECIDE_RETURN,
  FEEDBACK_PARTNER_BY_ID,
  FILE_RETURN,
  LIST_RETURNS,
  RETURN_BY_ID,
  runStatement,
  SALE_BY_LEAD,
  sqlPool,
  sqlTransaction,
  type Db,
  type SqlTx,
  type StatementRow,
} from '@leadrouter/db';
import { amount, amountNumber, ledgerLines } from '@leadrouter/money';
import type { PostbackJob } from '@leadrouter/queue';
import { encodeCursor, type Page } from './cursor.js';
import {
  eventPostback,
  insertLines,
  leadMoneyOf,
  lockCalls,
  postbackJobs,
  statusAfter,
  storedLines,
  type MoneyDeps,
  type MoneyLead,
  type StoredLine,
} from './money.js';
import { cursorOf, DEFAULT_LIMIT, listOf, readParams, type RawParams } from './params.js';
import { findPartner } from './refs.js';

// Returns (README "Feedback from partners", ADR 0026): one per sale, filed by the partner's feedback
// (feedback.ts) or by an operator for it, approved at once (the partner's autoApprove, an operator's filing) or
// from the queue. Approving writes the return's ledger lines, the lead's status and the source's postback in
// the transaction that decides it, under the lead's lock.

/** A return as the admin API shows it. */
export interface ReturnView {
  id: string;
  leadId: string;
  partner: { id: string; name: string };
  status: ReturnStatus;
  reason: string;
  filedVia: StatementRow<typeof LIST_RETURNS>['filedVia'];
  amount: number | null;
  soldAt: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionReason: string | null;
  createdAt: string;
}

function returnView(r: StatementRow<typeof LIST_RETURNS>): ReturnView {
  return {
    id: r.id,
    leadId: r.leadId,
    partner: { id: r.partnerId, name: r.partnerName },
    status: r.status,
    reason: r.reason,
    filedVia: r.filedVia,
    amount: r.amount === null ? null : amountNumber(amount(r.amount)),
    soldAt: r.saleAt?.toISOString() ?? null,
    decidedBy: r.decidedBy,
    decidedAt: r.decidedAt?.toISOString() ?? null,
    decisionReason: r.decisionReason,
    createdAt: r.createdAt.toISOString(),
  };
}

const one = {
  statuses: [...RETURN_STATUSES],
  partnerId: null,
  afterAt: null,
  afterId: null,
  limit: 1,
  id: null,
  leadId: null,
};

async function readReturn(db: Db, id: string): Promise<ReturnView> {
  const [row] = await runStatement(sqlPool(db), LIST_RETURNS, { ...one, id });
  if (!row) throw notFound('return');
  return returnView(row);
}

export interface ReturnQuery {
  statuses: ReturnStatus[];
  partnerId?: string;
  limit: number;
  cursor?: { at: Date; id: string };
}

/** The returns queue's parameters, as its route's schema accepted them. */
export type ReturnParams = QueryOf<typeof money.listReturns>;

/**
 * `status` (comma-separated; default `pending`), `partner` (id or name), `limit`, `cursor`, accepted by the schema:
 * the partner looked up and the cursor read, their problems added to `problems`.
 */
export async function readReturnQuery(db: Db, params: ReturnParams, problems: FieldError[]): Promise<ReturnQuery> {
  const statuses = listOf<ReturnStatus>(params.status) ?? ['pending'];
  const cursor = cursorOf(params.cursor, problems);
  const partner = params.partner === undefined ? undefined : await findPartner(db, params.partner);
  if (params.partner !== undefined && !partner)
    problems.push({ field: 'partner', message: 'no partner has this id or name' });
  return {
    statuses,
    limit: params.limit ?? DEFAULT_LIMIT,
    ...(partner ? { partnerId: partner.id } : {}),
    ...(cursor ? { cursor } : {}),
  };
}

/** Parameters as given (text): validated by the API's schema, then read; every problem in one 422. */
export async function parseReturnQuery(db: Db, raw: RawParams): Promise<ReturnQuery> {
  const schema = money.listReturns.query;
  const { value, problems } = readParams<ReturnParams>(schema, raw);
  const query = await readReturnQuery(db, value, problems);
  checkQuery(schema, problems);
  return query;
}

/** The returns queue: oldest first. */
export async function listReturns(db: Db, q: ReturnQuery): Promise<Page<ReturnView>> {
  const rows = await runStatement(sqlPool(db), LIST_RETURNS, {
    statuses: q.statuses,
    partnerId: q.partnerId ?? null,
    afterAt: q.cursor?.at ?? null,
    afterId: q.cursor?.id ?? null,
    limit: q.limit + 1,
    id: null,
    leadId: null,
  });
  const more = rows.length > q.limit;
  const items = more ? rows.slice(0, q.limit) : rows;
  const last = items[items.length - 1];
  return {
    items: items.map(returnView),
    nextCursor: more && last ? encodeCursor({ at: last.createdAt, id: last.id }) : null,
  };
}

/** A lead's returns, oldest first. */
export async function leadReturns(db: Db, leadId: string): Promise<ReturnView[]> {
  const rows = await runStatement(sqlPool(db), LIST_RETURNS, { ...one, limit: 100, leadId });
  return rows.map(returnView);
}

export interface ReturnResult {
  view: ReturnView;
  postbacks: PostbackJob[];
}

/**
 * The statements of an approved return, under the lead's lock: its ledger lines (the partner's sale negated;
 * the source's payout for the sale clawed back unless its source says not), the lead's status, the postback.
 */
function approvalCalls(
  tx: SqlTx,
  lead: MoneyLead,
  entries: readonly StoredLine[],
  sale: { deliveryId: string; partnerId: string },
  reason: string,
  now: Date,
) {
  const decision = ledgerLines({ kind: 'return', ...sale }, leadMoneyOf(lead, entries));
  if (decision.outcome !== 'record') return { calls: [], postbacks: [] };
  const all = [...entries, ...decision.lines];
  return {
    calls: [insertLines(tx, lead.id, decision.lines, now), ...statusAfter(tx, lead, all, now, sale.partnerId)],
    postbacks: [eventPostback(tx, lead, 'returned', sale.deliveryId, decision.lines, reason, now)],
  };
}

/** Decides a pending return: approves it (with its money) or rejects it. Deciding it the same way again changes nothing. */
async function decideReturn(
  deps: MoneyDeps,
  id: string,
  decision: { approve: true } | { approve: false; reason: string },
): Promise<ReturnResult> {
  if (!isUuid(id)) throw notFound('return');
  const pool = sqlPool(deps.db);
  const now = (deps.now ?? (() => new Date()))();
  const [found] = await runStatement(pool, RETURN_BY_ID, { id });
  if (!found) throw notFound('return');
  const jobs = await sqlTransaction(pool, async (tx) => {
    const [locked, rows, again] = await tx.run([...lockCalls(tx, found.leadId), tx.call(RETURN_BY_ID, { id })]);
    const lead = locked[0];
    const ret = again[0];
    if (!lead || !ret) throw notFound('return');
    const wanted: ReturnStatus = decision.approve ? 'approved' : 'rejected';
    if (ret.status === wanted) return [];
    if (ret.status !== 'pending') throw conflict(`the return was ${ret.status} already`);
    const decide = tx.call(DECIDE_RETURN, {
      id,
      status: wanted,
      decidedBy: 'operator',
      reason: decision.approve ? null : decision.reason,
      at: now,
    });
    if (!decision.approve) {
      await tx.commit([decide]);
      return [];
    }
    const entries = storedLines(rows);
    const { calls, postbacks } = approvalCalls(tx, lead, entries, ret, ret.reason, now);
    const results = await tx.commit([decide, ...calls, ...postbacks]);
    return postbackJobs(results.slice(1 + calls.length));
  });
  return { view: await readReturn(deps.db, id), postbacks: jobs };
}

export function approveReturn(deps: MoneyDeps, id: string): Promise<ReturnResult> {
  return decideReturn(deps, id, { approve: true });
}

export function rejectReturn(deps: MoneyDeps, id: string, reason: string): Promise<ReturnResult> {
  return decideReturn(deps, id, { approve: false, reason });
}

/**
 * An operator files a partner's return of a lead it bought, approved at once (the partner's returns window
 * binds the partner, not an operator). 409 when the sale has a return already; 422 when the partner did not
 * buy the lead.
 */
export async function fileReturn(
  deps: MoneyDeps,
  leadId: string,
  input: { partnerId: string; reason: string },
): Promise<ReturnResult> {
  if (!isUuid(leadId)) throw notFound('lead');
  const pool = sqlPool(deps.db);
  const now = (deps.now ?? (() => new Date()))();
  const [partner] = await runStatement(pool, FEEDBACK_PARTNER_BY_ID, { id: input.partnerId });
  const [sale] = partner ? await runStatement(pool, SALE_BY_LEAD, { partnerId: partner.id, leadId }) : [];
  const notBought = () => invalid([{ field: '/partnerId', message: 'did not buy this lead' }]);
  if (!partner || sale?.status !== 'accepted') {
    const [exists] = await runStatement(pool, SALE_BY_LEAD, { partnerId: input.partnerId, leadId });
    if (!exists && !(await leadExists(deps.db, leadId))) throw notFound('lead');
    throw notBought();
  }
  const result = await sqlTransaction(pool, async (tx) => {
    const [locked, rows] = await tx.run(lockCalls(tx, leadId));
    const lead = locked[0];
    if (!lead) throw notFound('lead');
    const entries = storedLines(rows);
    if (!entries.some((e) => e.kind === 'sale' && e.party === 'partner' && e.eventId === sale.id)) throw notBought();
    const [filed] = await tx.run([
      tx.call(FILE_RETURN, {
        leadId,
        deliveryId: sale.id,
        partnerId: partner.id,
        status: 'approved',
        reason: input.reason,
        via: 'operator',
        decidedBy: 'operator',
        at: now,
      }),
    ]);
    const id = filed[0]?.id;
    if (!id) throw conflict('this partner’s sale of the lead has a return already: decide it in the returns queue');
    const { calls, postbacks } = approvalCalls(
      tx,
      lead,
      entries,
      { deliveryId: sale.id, partnerId: partner.id },
      input.reason,
      now,
    );
    const results = await tx.commit([...calls, ...postbacks]);
    return { id, postbacks: postbackJobs(results.slice(calls.length)) };
  });
  return { view: await readReturn(deps.db, result.id), postbacks: result.postbacks };
}

async function leadExists(db: Db, leadId: string): Promise<boolean> {
  return (await db.lead.count({ where: { id: leadId.toLowerCase() }, take: 1 })) > 0;
}
