import { createHash } from 'node:crypto';
import { uuidv7 } from 'uuidv7';
import {
  invalid,
  isUuid,
  notFound,
  type LedgerKind,
  type LedgerParty,
  type PostbackEvent,
} from '@leadrouter/core/runtime';
import {
  APPEND_ENTRIES,
  INSERT_ENTRIES,
  INSERT_EVENT_POSTBACK,
  LEAD_DELIVERIES,
  LEAD_ENTRIES,
  LOCK_LEAD_MONEY,
  SET_MONEY_STATUS,
  sqlPool,
  sqlTransaction,
  type Db,
  type SqlCall,
  type SqlTx,
  type StatementRow,
} from '@leadrouter/db';
import {
  amount,
  amountNumber,
  formatAmount,
  leadMoney,
  ledgerLines,
  payoutFromColumns,
  salePrice,
  sourceEarnings,
  type Amount,
  type LeadMoney,
  type LedgerLine,
} from '@leadrouter/money';
import type { PostbackJob } from '@leadrouter/queue';
import { moneyStatus, type SettlingLine } from './decide/feedback.js';
import type { LeadTransactions } from './flow.js';

// The ledger's use cases (docs/decisions/0023-money-model.md, 0026): each money event is written in the
// transaction of the event itself, under its lead's lock — lock, read the lead's entries, decide the lines
// (`ledgerLines`), write them with the event's other rows (its feedback, its return, the lead's status, the
// source's postback) in one commit. The once-keys make a repeat write nothing.

/** What the money use cases need: the database, and the clock (tests set it). */
export interface MoneyDeps {
  db: Db;
  now?: () => Date;
  /**
   * Group commit of feedback events recorded at the same time (`SqlTransactionGroups`, ADR 0026 "Group commit");
   * none: each event in a transaction of its own.
   */
  transactions?: LeadTransactions;
}

/** The lead as a money event reads it under its lock. */
export type MoneyLead = StatementRow<typeof LOCK_LEAD_MONEY>;

/** A ledger entry as stored: a line with its id and time. */
export type StoredLine = LedgerLine & { id: string; at: Date };

export function storedLines(rows: readonly StatementRow<typeof LEAD_ENTRIES>[]): StoredLine[] {
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    eventId: r.eventId,
    party: r.party,
    partyId: r.partyId,
    deliveryId: r.deliveryId,
    amount: amount(r.amount),
    ...(r.note !== null ? { note: r.note } : {}),
    at: r.at,
  }));
}

/** What the lines of the lead's next event depend on. */
export function leadMoneyOf(lead: MoneyLead, entries: readonly LedgerLine[]): LeadMoney {
  return {
    leadId: lead.id,
    sourceId: lead.sourceId,
    geo: lead.geo,
    payout: payoutFromColumns(lead),
    clawback: lead.clawback,
    entries,
  };
}

/** The lead's lock and its entries, as one round trip's statements (the lock first). */
export function lockCalls(tx: SqlTx, leadId: string) {
  return [tx.call(LOCK_LEAD_MONEY, { leadId }), tx.call(LEAD_ENTRIES, { leadId })] as const;
}

/** The lines as the ledger's inserts take them: one array per column. */
function lineColumns(lines: readonly LedgerLine[]) {
  return {
    kinds: lines.map((l) => l.kind),
    eventIds: lines.map((l) => l.eventId),
    parties: lines.map((l) => l.party),
    partyIds: lines.map((l) => l.partyId),
    deliveryIds: lines.map((l) => l.deliveryId),
    amounts: lines.map((l) => formatAmount(l.amount)),
    notes: lines.map((l) => l.note ?? null),
  };
}

/** The statement writing these lines of the lead at `at` (each once: its once-key), returning those inserted. */
export function insertLines(tx: SqlTx, leadId: string, lines: readonly LedgerLine[], at: Date) {
  return tx.call(INSERT_ENTRIES, { leadId, ...lineColumns(lines), at });
}

/**
 * As `insertLines`, returning nothing, and combinable (`APPEND_ENTRIES`): it must come last in its message, and
 * the lines of every such call of the message — of a group's events too — are written by one INSERT.
 */
export function appendLines(tx: SqlTx, leadId: string, lines: readonly LedgerLine[], at: Date) {
  return tx.call(APPEND_ENTRIES, {
    leadIds: lines.map(() => leadId),
    ...lineColumns(lines),
    ats: lines.map(() => at),
  });
}

/** What the source gets (or gives back) with these lines: its own lines' sum. */
export function sourceShare(lines: readonly LedgerLine[]): Amount {
  return sourceEarnings(lines);
}

/**
 * The source's postback of a feedback event of one sale (written only when the source has a postback URL,
 * once per event and sale): `payout`, the source's own lines of the event, signed — 0 when they are none (a
 * return that leaves the source its payout), absent when the source is paid nothing for its leads at all.
 */
export function eventPostback(
  tx: SqlTx,
  lead: MoneyLead,
  event: PostbackEvent,
  deliveryId: string,
  lines: readonly LedgerLine[],
  reason: string | null,
  at: Date,
): SqlCall<{ id: string }> {
  const paid = lead.payoutModel !== null || lines.some((l) => l.party === 'source');
  return tx.call(INSERT_EVENT_POSTBACK, {
    leadId: lead.id,
    event,
    eventKey: deliveryId,
    payout: paid ? formatAmount(sourceShare(lines)) : null,
    reason,
    at,
  });
}

/** The lead's status after its money changed (`moneyStatus`), as a statement; none when it stays. */
export function statusAfter(
  tx: SqlTx,
  lead: MoneyLead,
  entries: readonly LedgerLine[],
  at: Date,
  partnerId: string | null,
  detail: Record<string, unknown> | null = null,
): SqlCall<Record<string, never>>[] {
  const next = moneyStatus(lead.status, entries);
  if (next === null || next === lead.status) return [];
  return [tx.call(SET_MONEY_STATUS, { leadId: lead.id, from: lead.status, to: next, partnerId, detail, at })];
}

/**
 * The statements of a sale's ledger lines (`ledgerLines`): the partner's line at `price` (`salePrice`: the
 * answer's, else its fixed price, else 0) and the source's cpl (once per lead) or revshare — for the commit of
 * the accepted delivery, whose transaction holds the lead's lock already (the lock here only reads the lead's
 * money terms). None when the sale is in the ledger already (a retried job, a replayed attempt). With them,
 * the lead's ledger as it will be once they are written (`entries`: what the lead settles by, `settledMoney`).
 * The lines are written by a combinable call (`appendLines`), the last of `calls`, which must come last in the
 * commit's message: a group of sales' lines (ADR 0038) are one INSERT, and the ledger's rollup trigger runs once
 * for them (docs/performance.md, "One ledger INSERT a group of sales").
 */
export async function saleCalls(
  tx: SqlTx,
  sale: { leadId: string; deliveryId: string; partnerId: string; price: Amount | null },
  at: Date,
  /** What `lockCalls` read, when the caller sent them with its own statements (one round trip fewer). */
  read?: SaleRead,
): Promise<{ calls: SqlCall<unknown>[]; entries: SettlingLine[] }> {
  const { lead, entries: rows } = read ?? (await readSale(tx, sale.leadId));
  if (!lead) return { calls: [], entries: [] };
  const entries = storedLines(rows);
  const decision = ledgerLines(
    { kind: 'sale', deliveryId: sale.deliveryId, partnerId: sale.partnerId, price: salePrice({ fixed: sale.price }) },
    leadMoneyOf(lead, entries),
  );
  if (decision.outcome !== 'record') return { calls: [], entries };
  // A sale of a lead sold before (a retried dead letter of a shared lead) may take it out of `returned`.
  return {
    calls: [
      ...statusAfter(tx, lead, [...entries, ...decision.lines], at, sale.partnerId),
      appendLines(tx, lead.id, decision.lines, at),
    ],
    entries: [...entries, ...decision.lines.map((l) => ({ ...l, at }))],
  };
}

/** What a sale's lines depend on, read under the lead's lock (`lockCalls`): the lead (absent: deleted), its entries. */
export interface SaleRead {
  lead: MoneyLead | undefined;
  entries: StatementRow<typeof LEAD_ENTRIES>[];
}

async function readSale(tx: SqlTx, leadId: string): Promise<SaleRead> {
  const [locked, entries] = await tx.run(lockCalls(tx, leadId));
  return { lead: locked[0], entries };
}

/** The postback jobs of the postbacks a commit created (each statement's rows `{id}`). */
export function postbackJobs(rows: readonly (readonly { id?: unknown }[])[]): PostbackJob[] {
  return rows.flatMap((r) =>
    r.flatMap((row) => (typeof row.id === 'string' ? [{ postbackId: row.id, attempt: 1 }] : [])),
  );
}

// ---------------------------------------------------------------------------
// Views

/** A ledger entry as the admin API shows it (amounts as exact JSON numbers). */
export interface LedgerEntryView {
  id: string;
  leadId: string;
  party: LedgerParty;
  partyId: string;
  kind: LedgerKind;
  amount: number;
  deliveryId: string | null;
  note?: string;
  at: string;
}

/** A lead's money as the admin token sees it: revenue (partner lines), cost (source lines), margin, every entry. */
export interface MoneyView {
  revenue: number;
  cost: number;
  margin: number;
  /** The ISO 4217 code of the amounts: the installation's CURRENCY. */
  currency: string;
  entries: LedgerEntryView[];
}

/** One entry of the lead `leadId` (the rows read per lead do not repeat it). */
export function entryView(leadId: string, e: StoredLine): LedgerEntryView {
  return {
    id: e.id,
    leadId,
    party: e.party,
    partyId: e.partyId,
    kind: e.kind,
    amount: amountNumber(e.amount),
    deliveryId: e.deliveryId,
    ...(e.note !== undefined ? { note: e.note } : {}),
    at: e.at.toISOString(),
  };
}

export function moneyView(leadId: string, entries: readonly StoredLine[], currency: string): MoneyView {
  const m = leadMoney(entries);
  return {
    revenue: amountNumber(m.revenue),
    cost: amountNumber(m.cost),
    margin: amountNumber(m.margin),
    currency,
    entries: entries.map((e) => entryView(leadId, e)),
  };
}

/** What the source earns on a lead (its `payout`): the sum of its lines, as an exact JSON number. */
export function payoutView(entries: readonly Pick<LedgerLine, 'party' | 'amount'>[]): number {
  return amountNumber(sourceEarnings(entries));
}

// ---------------------------------------------------------------------------
// Adjustments

export interface AdjustmentInput {
  party: LedgerParty;
  partyId: string;
  amount: Amount;
  note: string;
}

/**
 * The adjustment's id: from the request's Idempotency-Key when given (so the same request again records
 * nothing more: its once-key), else a new one.
 */
export function adjustmentId(leadId: string, key: string | undefined): string {
  if (key === undefined) return uuidv7();
  const h = createHash('sha256').update(`adjustment:${leadId}:${key}`).digest('hex');
  // A version-8 (custom) UUID of the hash.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Records an operator's correction of a lead's money: one signed `adjustment` entry for the lead's source or a
 * partner it was offered to. `created` is false when the same Idempotency-Key recorded it already.
 */
export async function addAdjustment(
  deps: MoneyDeps,
  leadId: string,
  input: AdjustmentInput,
  idempotencyKey?: string,
): Promise<{ entry: LedgerEntryView; created: boolean }> {
  if (!isUuid(leadId)) throw notFound('lead');
  const id = adjustmentId(leadId.toLowerCase(), idempotencyKey);
  const now = (deps.now ?? (() => new Date()))();
  return sqlTransaction(sqlPool(deps.db), async (tx) => {
    const [locked, rows, deliveries] = await tx.run([...lockCalls(tx, leadId), tx.call(LEAD_DELIVERIES, { leadId })]);
    const lead = locked[0];
    if (!lead) throw notFound('lead');
    const partyOk =
      input.party === 'source'
        ? input.partyId === lead.sourceId
        : deliveries.some((d) => d.partnerId === input.partyId);
    if (!partyOk)
      throw invalid([
        {
          field: '/partyId',
          message: input.party === 'source' ? 'is not the lead’s source' : 'is not a partner the lead was offered to',
        },
      ]);
    const entries = storedLines(rows);
    const decision = ledgerLines({ kind: 'adjustment', adjustmentId: id, ...input }, leadMoneyOf(lead, entries));
    const existing = () => entries.find((e) => e.kind === 'adjustment' && e.eventId === id && e.party === input.party);
    switch (decision.outcome) {
      case 'duplicate':
      case 'refused': {
        const found = existing();
        if (!found) throw new Error('addAdjustment: a duplicate without its entry');
        return { entry: entryView(lead.id, found), created: false };
      }
      case 'record': {
        const [inserted] = await tx.commit([insertLines(tx, lead.id, decision.lines, now)]);
        const line = decision.lines[0]!;
        const row = inserted[0];
        if (!row) throw new Error('addAdjustment: the entry was not inserted');
        return { entry: entryView(lead.id, { ...line, id: row.id, at: now }), created: true };
      }
    }
  });
}
