import { type AppError, invalid, notFound, type FeedbackEventKind, type FeedbackVia } from '@leadrouter/core/runtime';
import {
  INSERT_FEEDBACK,
  SALE_STATE,
  SALE_STATE_OF_LEAD,
  SALES_BY_REFERENCES,
  SET_FEEDBACK_OUTCOME,
  SET_PARTNER_STATUS,
  FILE_RETURN,
  runStatement,
  sqlPool,
  type SqlCall,
  type StatementRow,
  type PARTNER_BY_FEEDBACK_KEY,
} from '@leadrouter/db';
import {
  amount,
  conversionRevenue,
  formatAmount,
  ledgerLines,
  parseStatusMap,
  type Amount,
  type LedgerLine,
  type MoneyEvent,
} from '@leadrouter/money';
import type { PostbackJob } from '@leadrouter/queue';
import {
  decideFeedback,
  feedbackTime,
  type FeedbackFacts,
  type FeedbackOutcome,
  type FeedbackTerms,
  type SaleFacts,
} from './decide/feedback.js';
import { leadTransaction } from './flow.js';
import {
  appendLines,
  eventPostback,
  leadMoneyOf,
  lockCalls,
  postbackJobs,
  statusAfter,
  storedLines,
  type MoneyDeps,
  type StoredLine,
} from './money.js';

// Partner feedback (README "Feedback from partners", ADR 0026): each event in one transaction under its lead's
// lock — the event as received, what it does to the sale's money, the sale's return, the lead's status and the
// source's postback, committed together. Events of different leads recorded at the same time may share one
// PostgreSQL transaction and commit (ADR 0026 "Group commit"); one lead's run one after another.

/** A partner as its feedback is read: who it is and what it agreed to. */
export interface FeedbackPartner {
  id: string;
  name: string;
  conversionPrice: Amount | null;
  terms: FeedbackTerms;
}

/** A partner row with its feedback terms (`PARTNER_BY_FEEDBACK_KEY`, `FEEDBACK_PARTNER_BY_ID`). */
export type FeedbackPartnerRow = StatementRow<typeof PARTNER_BY_FEEDBACK_KEY>;

export function feedbackPartnerOf(row: FeedbackPartnerRow): FeedbackPartner {
  // The admin API checked the map when it took it (parseStatusMap): a stored map always parses.
  const map = parseStatusMap(row.statusMap);
  return {
    id: row.id,
    name: row.name,
    conversionPrice: row.conversionPrice === null ? null : amount(row.conversionPrice),
    terms: {
      statusMap: map.ok ? map.map : new Map(),
      returnsWindowDays: row.returnsWindowDays,
      returnsAutoApprove: row.returnsAutoApprove,
    },
  };
}

/** One feedback event, validated. */
export interface FeedbackInput {
  lead: { leadId: string } | { reference: string };
  event: FeedbackEventKind;
  status: string | null;
  amount: Amount | null;
  reason: string | null;
  eventId: string | null;
  at: Date | null;
}

/** What one event is answered: recorded (202), a duplicate (200), or refused (404, 422). */
export type FeedbackAnswer =
  | { httpStatus: 202; body: { status: 'recorded'; outcome: FeedbackOutcome } }
  | { httpStatus: 200; body: { status: 'duplicate' } }
  | { httpStatus: 404 | 422; error: AppError };

export interface FeedbackResult {
  answer: FeedbackAnswer;
  /** The postbacks the event's transaction wrote, to enqueue (the sweeper sends any that are not). */
  postbacks: PostbackJob[];
}

const NOT_BOUGHT = (): FeedbackResult => ({ answer: { httpStatus: 404, error: notFound('lead') }, postbacks: [] });
const DUPLICATE: FeedbackResult = { answer: { httpStatus: 200, body: { status: 'duplicate' } }, postbacks: [] };

/** The sale's facts from its lead's entries and its state row. */
function saleFacts(
  entries: readonly StoredLine[],
  deliveryId: string,
  state: StatementRow<typeof SALE_STATE>,
): SaleFacts {
  const line = (kind: LedgerLine['kind']) =>
    entries.find((e) => e.kind === kind && e.party === 'partner' && e.eventId === deliveryId);
  return {
    saleAt: line('sale')?.at ?? null,
    partnerStatus: state.partnerStatus,
    partnerStatusAt: state.partnerStatusAt,
    returnStatus: state.returnStatus,
    conversion: line('conversion') !== undefined,
    reversal: line('reversal') !== undefined,
  };
}

/** The sale an event names: its lead, and its delivery when known already (null: read under the lock). */
interface SaleRef {
  leadId: string;
  deliveryId: string | null;
}

/**
 * The sale each event names. By lead id: nothing to read before the lock (the partner's delivery of the lead is
 * read under it, in the lock's own message). By the partner's reference: its accepted deliveries with it, for
 * every reference of the batch in one statement (none: 404; two: 422, "send the leadId").
 */
async function findSales(
  deps: MoneyDeps,
  partner: FeedbackPartner,
  inputs: readonly FeedbackInput[],
): Promise<(SaleRef | FeedbackResult)[]> {
  const references = inputs.flatMap((input) => ('reference' in input.lead ? [input.lead.reference] : []));
  const found = new Map<string, SaleRef[]>();
  if (references.length > 0)
    for (const row of await runStatement(sqlPool(deps.db), SALES_BY_REFERENCES, { partnerId: partner.id, references }))
      found.set(row.reference, [...(found.get(row.reference) ?? []), { leadId: row.leadId, deliveryId: row.id }]);
  return inputs.map((input): SaleRef | FeedbackResult => {
    if ('leadId' in input.lead) return { leadId: input.lead.leadId, deliveryId: null };
    const sales = found.get(input.lead.reference) ?? [];
    if (sales.length > 1)
      return {
        answer: {
          httpStatus: 422,
          error: invalid([{ field: '/reference', message: 'names more than one of your leads: send the `leadId`' }]),
        },
        postbacks: [],
      };
    return sales[0] ?? NOT_BOUGHT();
  });
}

/**
 * Records one feedback event of `partner` (README "Feedback from partners"): finds the sale (by the partner's
 * reference, or by lead id), then records the event about it (`recordSaleFeedback`): a repeated `eventId`,
 * also one sent at the same moment to another ingest, inserts nothing and is answered as a duplicate.
 */
export async function recordFeedback(
  deps: MoneyDeps,
  partner: FeedbackPartner,
  input: FeedbackInput,
  via: FeedbackVia = 'push',
): Promise<FeedbackResult> {
  const [result] = await recordFeedbackEvents(deps, partner, [input], via);
  return result!;
}

/**
 * Records a batch of feedback events of `partner`, each as `recordFeedback` does, in its own transaction (shared
 * with others' when `deps.transactions` groups them: ADR 0026 "Group commit"), answered in order. Events of
 * different leads are recorded at the same time; those of one lead one after another, in the batch's order
 * (its sales found first, so a lead named by its id and by a reference is one lead). An event that throws (not
 * a refusal: PostgreSQL unavailable) fails the batch once every event has settled; the later events of its
 * lead are not recorded, the others' are (the partner's retry is answered `duplicate` for those with an
 * `eventId`).
 */
export async function recordFeedbackEvents(
  deps: MoneyDeps,
  partner: FeedbackPartner,
  inputs: readonly FeedbackInput[],
  via: FeedbackVia = 'push',
): Promise<FeedbackResult[]> {
  const sales = await findSales(deps, partner, inputs);
  const previous = new Map<string, Promise<FeedbackResult>>();
  const recorded = inputs.map((input, i) => {
    const sale = sales[i]!;
    if ('answer' in sale) return Promise.resolve(sale);
    const before = previous.get(sale.leadId);
    const mine = before
      ? before.then(() => recordOnSale(deps, partner, sale, input, via))
      : recordOnSale(deps, partner, sale, input, via);
    previous.set(sale.leadId, mine);
    return mine;
  });
  const settled = await Promise.allSettled(recorded);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<FeedbackResult>).value);
}

/**
 * Records one feedback event about a sale of `partner` found already (by `recordFeedback`, or by a status
 * pull's match): under the lead's lock, decides (`decideFeedback`) and writes in one commit the event (once
 * per `eventId`), the ledger lines (once each: their once-keys), the sale's return, the partner's status, the
 * lead's status and the source's postback. A pulled status (`via: 'pull'`) that is unchanged, or older than
 * the one stored, writes nothing at all (it is asked for again on every pull): answered as a duplicate.
 */
export function recordSaleFeedback(
  deps: MoneyDeps,
  partner: FeedbackPartner,
  sale: { deliveryId: string; leadId: string },
  input: FeedbackInput,
  via: FeedbackVia,
): Promise<FeedbackResult> {
  return recordOnSale(deps, partner, sale, input, via);
}

/**
 * `recordSaleFeedback` of a sale named by its delivery, or by its lead (`deliveryId` null: the partner's
 * delivery of the lead, read under the lock). The transaction is the lead's (`leadTransaction`): shared with
 * other leads' events when `deps.transactions` groups them; it may then run twice (the shared one abandoned,
 * then alone), and does nothing outside PostgreSQL.
 */
async function recordOnSale(
  deps: MoneyDeps,
  partner: FeedbackPartner,
  sale: SaleRef,
  input: FeedbackInput,
  via: FeedbackVia,
): Promise<FeedbackResult> {
  const now = (deps.now ?? (() => new Date()))();
  const { leadId } = sale;

  return leadTransaction(deps, leadId, async (tx) => {
    const [locked, rows, states] = await tx.run([
      ...lockCalls(tx, leadId),
      sale.deliveryId === null
        ? tx.call(SALE_STATE_OF_LEAD, { partnerId: partner.id, leadId })
        : tx.call(SALE_STATE, { deliveryId: sale.deliveryId }),
    ]);
    const lead = locked[0];
    const state = states[0];
    if (!lead || state?.status !== 'accepted') return NOT_BOUGHT();
    const deliveryId = state.id;
    const entries = storedLines(rows);
    const facts: FeedbackFacts = {
      event: input.event,
      status: input.status,
      amount: input.amount,
      reason: input.reason,
      at: input.at ?? now,
    };
    const sold = saleFacts(entries, deliveryId, state);
    const decision = decideFeedback(facts, sold, partner.terms, now);
    switch (decision.outcome) {
      case 'not_sold':
        return NOT_BOUGHT();
      case 'refused':
        return {
          answer: { httpStatus: 422, error: invalid([{ field: decision.field, message: decision.message }]) },
          postbacks: [],
        };
      case 'duplicate':
        return DUPLICATE;
      case 'record':
        if (via === 'pull' && (decision.result === 'unchanged' || decision.result === 'stale')) return DUPLICATE;
        break;
    }

    // The event first: the same eventId recorded already (by anyone, for any lead) makes this a duplicate.
    const [inserted] = await tx.run([
      tx.call(INSERT_FEEDBACK, {
        partnerId: partner.id,
        leadId,
        deliveryId,
        event: input.event,
        status: input.status,
        outcome: decision.result,
        amount: input.amount === null ? null : formatAmount(input.amount),
        reason: input.reason,
        eventId: input.eventId,
        via,
        at: facts.at,
      }),
    ]);
    if (inserted.length === 0) {
      // Nothing written yet: committing ends the transaction as a rollback would, without abandoning a group.
      await tx.commit();
      return DUPLICATE;
    }

    const saleAt = sold.saleAt!;
    const entryAt = feedbackTime(facts.at, saleAt, now);
    const calls: SqlCall<unknown>[] = [];
    if (decision.partnerStatus)
      calls.push(
        tx.call(SET_PARTNER_STATUS, {
          deliveryId,
          status: decision.partnerStatus.status,
          at: decision.partnerStatus.at,
        }),
      );
    const money = leadMoneyOf(lead, entries);
    let all: LedgerLine[] = [...entries];
    const postbacks: SqlCall<{ id: string }>[] = [];
    /** The ledger's lines: last in the commit, one INSERT with the other events' of a group (`appendLines`). */
    const ledger: SqlCall<unknown>[] = [];
    /** Writes an event's lines (and its postback), with what follows from them seen by the next. */
    const apply = (
      event: MoneyEvent,
      at: Date,
      postback: 'converted' | 'returned' | 'reversed' | null,
      reason: string | null,
    ) => {
      const lines = ledgerLines(event, { ...money, entries: all });
      if (lines.outcome !== 'record') return;
      ledger.push(appendLines(tx, lead.id, lines.lines, at));
      all = [...all, ...lines.lines];
      if (postback) postbacks.push(eventPostback(tx, lead, postback, deliveryId, lines.lines, reason, at));
    };
    const effect = decision.effect;
    switch (effect.kind) {
      case 'none':
      case 'await_conversion':
        break;
      case 'convert': {
        const revenue = conversionRevenue({ reported: input.amount, conversionPrice: partner.conversionPrice });
        apply({ kind: 'conversion', deliveryId, partnerId: partner.id, amount: revenue }, entryAt, 'converted', null);
        if (state.waitingId !== null) {
          // A reversal that arrived before this conversion takes it back now.
          const at = feedbackTime(state.waitingAt ?? entryAt, entryAt, now);
          apply({ kind: 'reversal', deliveryId, partnerId: partner.id }, at, 'reversed', state.waitingReason);
          calls.push(tx.call(SET_FEEDBACK_OUTCOME, { id: state.waitingId, outcome: 'reversed' }));
        }
        break;
      }
      case 'reverse':
        apply({ kind: 'reversal', deliveryId, partnerId: partner.id }, entryAt, 'reversed', input.reason);
        break;
      case 'file_return': {
        const reason = input.reason ?? (input.status !== null ? `status: ${input.status}` : 'returned by the buyer');
        calls.push(
          tx.call(FILE_RETURN, {
            leadId,
            deliveryId,
            partnerId: partner.id,
            status: effect.approve ? 'approved' : 'pending',
            reason,
            via,
            decidedBy: effect.approve ? 'auto' : null,
            at: now,
          }),
        );
        if (effect.approve) apply({ kind: 'return', deliveryId, partnerId: partner.id }, now, 'returned', reason);
        break;
      }
    }
    const detail =
      effect.kind === 'reverse' || (effect.kind === 'convert' && state.waitingId !== null)
        ? { event: 'reversed' }
        : null;
    calls.push(...statusAfter(tx, lead, all, entryAt, partner.id, detail));
    const results = await tx.commit([...calls, ...postbacks, ...ledger]);
    return {
      answer: { httpStatus: 202, body: { status: 'recorded', outcome: decision.result } },
      postbacks: postbackJobs(results.slice(calls.length, calls.length + postbacks.length) as { id: string }[][]),
    };
  });
}
