import type { FEEDBACK_OUTCOMES } from '@leadrouter/api';
import type { FeedbackEventKind, LeadStatus, ReturnStatus } from '@leadrouter/core';
import { type Amount, type LedgerLine, statusChange, type StatusMap } from '@leadrouter/money';

/** One feedback event as a partner sent it (validated), about one of its sales. */
export interface FeedbackFacts {
  event: FeedbackEventKind;
  /** A `status` event's raw status. */
  status: string | null;
  amount: Amount | null;
  reason: string | null;
  /** When the partner says it happened (else when it arrived). */
  at: Date;
}

/** The sale the feedback is about, as read under its lead's lock. */
export interface SaleFacts {
  /** When the sale's partner line was written; null when the ledger has no sale through this delivery. */
  saleAt: Date | null;
  /** The partner's last raw status for the sale, and when it said so. */
  partnerStatus: string | null;
  partnerStatusAt: Date | null;
  /** The sale's return, if one was filed. */
  returnStatus: ReturnStatus | null;
  /** The ledger has a conversion through this delivery, and a reversal of it. */
  conversion: boolean;
  reversal: boolean;
}

/** What the partner agreed to: its statuses, its window for returns and whether they are approved at once. */
export interface FeedbackTerms {
  statusMap: StatusMap;
  returnsWindowDays: number;
  returnsAutoApprove: boolean;
}

/** What a recorded feedback event did (kept with it, and told to the partner). */
export type FeedbackOutcome = (typeof FEEDBACK_OUTCOMES)[number];

/** What the event does to the sale's money. */
export type FeedbackEffect =
  | { kind: 'none' }
  | { kind: 'convert' }
  | { kind: 'reverse' }
  /** A reversal that arrived before its conversion: kept, and applied when the conversion comes. */
  | { kind: 'await_conversion' }
  | { kind: 'file_return'; approve: boolean };

export type FeedbackDecision =
  /** The partner did not buy this lead (no sale in the ledger): 404. */
  | { outcome: 'not_sold' }
  /** The event cannot be taken: 422 with the message. */
  | { outcome: 'refused'; field: string; message: string }
  /** The event happened already (a second conversion, return or reversal of one sale): 200 duplicate. */
  | { outcome: 'duplicate' }
  | {
      outcome: 'record';
      result: FeedbackOutcome;
      effect: FeedbackEffect;
      /** The sale's raw status from now on (status events that are not stale). */
      partnerStatus?: { status: string; at: Date };
    };

const DAY_MS = 86_400_000;

/**
 * What a partner's feedback does to one of its sales (README "Feedback
 * from partners", ADR 0026). Explicit events that happened already are
 * duplicates; a status event never is — it is recorded with what it came to
 * (`unchanged`, `unmapped`, `stale` when older than the status last reported,
 * …). A reversal before its conversion waits for it. A return needs the
 * partner's returns on (`windowDays` > 0) and to come within the window of
 * the sale (counted to `now`, when it arrives: a partner cannot backdate its
 * way in).
 */
export function decideFeedback(
  facts: FeedbackFacts,
  sale: SaleFacts,
  terms: FeedbackTerms,
  now: Date,
): FeedbackDecision {
  if (sale.saleAt === null) return { outcome: 'not_sold' };
  const converted = sale.conversion && !sale.reversal;
  let effect: 'converted' | 'returned' | 'reversed';
  let partnerStatus: { status: string; at: Date } | undefined;
  if (facts.event === 'status') {
    const status = facts.status ?? '';
    if (sale.partnerStatusAt !== null && facts.at < sale.partnerStatusAt)
      return { outcome: 'record', result: 'stale', effect: { kind: 'none' } };
    partnerStatus = { status, at: facts.at };
    const change = statusChange({ previous: sale.partnerStatus, status, map: terms.statusMap, converted });
    if (change.effect === 'none') {
      const result = change.why === 'already_converted' ? 'already_converted' : change.why;
      return { outcome: 'record', result, effect: { kind: 'none' }, partnerStatus };
    }
    effect = change.effect;
  } else {
    effect = facts.event;
  }
  const explicit = facts.event !== 'status';
  const again = (result: FeedbackOutcome): FeedbackDecision =>
    explicit ? { outcome: 'duplicate' } : { outcome: 'record', result, effect: { kind: 'none' }, partnerStatus };

  switch (effect) {
    case 'converted':
      // Once per partner and lead: the ledger's once-key is the delivery (ADR 0023), reversed or not.
      if (sale.conversion) return again('already_converted');
      return { outcome: 'record', result: 'converted', effect: { kind: 'convert' }, partnerStatus };
    case 'reversed':
      if (sale.reversal) return again('already_reversed');
      if (!sale.conversion)
        return explicit
          ? { outcome: 'record', result: 'awaiting_conversion', effect: { kind: 'await_conversion' } }
          : { outcome: 'record', result: 'not_converted', effect: { kind: 'none' }, partnerStatus };
      return { outcome: 'record', result: 'reversed', effect: { kind: 'reverse' }, partnerStatus };
    case 'returned': {
      const field = explicit ? '/event' : '/status';
      if (sale.returnStatus === 'rejected')
        return { outcome: 'refused', field, message: 'the return of this lead was rejected by an operator' };
      if (sale.returnStatus !== null) return again('already_returned');
      if (terms.returnsWindowDays <= 0)
        return { outcome: 'refused', field, message: 'returns are not allowed for this partner' };
      const closes = new Date(sale.saleAt.getTime() + terms.returnsWindowDays * DAY_MS);
      if (now > closes)
        return {
          outcome: 'refused',
          field,
          message: `outside the returns window: ${terms.returnsWindowDays} days from the sale, which closed at ${closes.toISOString()}`,
        };
      const approve = terms.returnsAutoApprove;
      return {
        outcome: 'record',
        result: approve ? 'returned' : 'return_pending',
        effect: { kind: 'file_return', approve },
        partnerStatus,
      };
    }
  }
}

/** The statuses a lead's money moves it between (after `delivered`). */
const SOLD: readonly LeadStatus[] = ['delivered', 'converted', 'returned'];

/**
 * A sold lead's status from its ledger: `returned` once every sale of it is
 * returned (approved: its partner's return line is written), else
 * `converted` while a conversion of a sale it still has stands (not
 * reversed), else `delivered` — so a shared lead stays `delivered` while one
 * buyer keeps it, and a reversed conversion moves it back. A lead that is not
 * sold (still `routing`, say, while a shared route waits for its other
 * buyers) keeps its status: null.
 */
export function moneyStatus(
  current: LeadStatus,
  entries: readonly Pick<LedgerLine, 'kind' | 'party' | 'deliveryId'>[],
): LeadStatus | null {
  if (!SOLD.includes(current)) return null;
  const partner = (kind: LedgerLine['kind']) =>
    new Set(entries.filter((e) => e.party === 'partner' && e.kind === kind).map((e) => e.deliveryId));
  const sales = partner('sale');
  const returned = partner('return');
  const reversed = partner('reversal');
  if (sales.size === 0) return null;
  const kept = [...sales].filter((d) => !returned.has(d));
  if (kept.length === 0) return 'returned';
  if ([...partner('conversion')].some((d) => !reversed.has(d) && !returned.has(d))) return 'converted';
  return 'delivered';
}

/** A ledger entry as the settling of a routing lead reads it. */
export type SettlingLine = Pick<LedgerLine, 'kind' | 'party' | 'partyId' | 'deliveryId'> & { at: Date };

/**
 * The status a lead settles in when its routing ends with a sale, and what goes with it (issue 13). Feedback
 * about a sale can arrive while the lead is still `routing` (a shared route: one buyer accepted and converted
 * while another delivery is still tried); its money is recorded then, its status is not (`moneyStatus` leaves
 * a lead that is not sold as it is). So the lead settles in what its ledger makes of a sold lead: `delivered`,
 * `converted` or `returned` (`moneyStatus`), the latter two with the partner whose event decided it — the
 * buyer of the first conversion that stands, the partner of the last return. `postbackAt` dates the
 * `delivered` postback at the lead's first sale when feedback came before it settled: the events' own
 * postbacks went out then, dated when they happened, and a source that orders its postbacks by `at` must see
 * the sale first. Null: nothing came before (the postback is dated when it is written, as always).
 */
export type SettledMoney =
  | { status: 'delivered'; postbackAt: Date | null }
  | { status: 'converted' | 'returned'; partnerId: string; postbackAt: Date };

export function settledMoney(entries: readonly SettlingLine[]): SettledMoney {
  const partnerLines = entries.filter((e) => e.party === 'partner');
  const sales = partnerLines.filter((e) => e.kind === 'sale');
  const fed = partnerLines.some((e) => e.kind === 'conversion' || e.kind === 'return' || e.kind === 'reversal');
  const firstSale = sales.reduce<Date | null>((t, e) => (t === null || e.at < t ? e.at : t), null);
  const postbackAt = fed ? firstSale : null;
  const status = moneyStatus('delivered', entries);
  if (postbackAt === null || (status !== 'converted' && status !== 'returned'))
    return { status: 'delivered', postbackAt };
  const gone = (kind: LedgerLine['kind']) =>
    new Set(partnerLines.filter((e) => e.kind === kind).map((e) => e.deliveryId));
  const returned = gone('return');
  const reversed = gone('reversal');
  const decider =
    status === 'converted'
      ? partnerLines.find((e) => e.kind === 'conversion' && !returned.has(e.deliveryId) && !reversed.has(e.deliveryId))
      : partnerLines.filter((e) => e.kind === 'return').at(-1);
  if (!decider) throw new Error(`settledMoney: ${status} without the line that made it so`);
  return { status, partnerId: decider.partyId, postbackAt };
}

/** The entries' `at` for a feedback event: when the partner says it happened, but not before the sale nor after now. */
export function feedbackTime(at: Date, saleAt: Date, now: Date): Date {
  const t = Math.min(Math.max(at.getTime(), saleAt.getTime()), now.getTime());
  return new Date(t);
}
