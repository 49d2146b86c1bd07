/**
 * Every state of a lead's lifecycle, as `as const` lists with the union types
 * derived from them: what PostgreSQL's enums hold (prisma/schema.prisma; a
 * test in packages/db holds the two together), and the strategies and
 * outcomes the routing and delivery steps speak in. Anywhere a status is
 * read or written, its type is one of these, never `string`
 * (docs/decisions/0021-pure-lifecycle-decisions.md).
 */

/**
 * A lead's status: `queued` → `routing` → one of the final statuses; after `delivered`, partner feedback moves
 * a lead on to `converted` or `returned` (docs/decisions/0023-money-model.md).
 */
export const LEAD_STATUSES = [
  'queued',
  'routing',
  'delivered',
  'unsold',
  'unmatched',
  'dead_lettered',
  'converted',
  'returned',
] as const;
export type LeadStatus = (typeof LEAD_STATUSES)[number];

/**
 * The statuses a lead settles in, which its source's postback reports. A
 * requeued dead letter can move a lead out of one again (back to `routing`).
 */
export const TERMINAL_STATUSES = [
  'delivered',
  'unsold',
  'unmatched',
  'dead_lettered',
] as const satisfies readonly LeadStatus[];
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

/**
 * A delivery (one lead offered to one partner): `pending` while attempts go
 * on; `accepted` or `rejected` by the partner; `dead_lettered` once its
 * attempts ran out; `superseded`, a dead letter its lead can no longer use
 * because the lead was sold through other partners meanwhile.
 */
export const DELIVERY_STATUSES = ['pending', 'accepted', 'rejected', 'dead_lettered', 'superseded'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** What one delivery attempt recorded: `failed` is the attempt that exhausted the retries. */
export const ATTEMPT_OUTCOMES = ['accepted', 'rejected', 'retry', 'failed'] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

/** A postback to a lead's source. */
export const POSTBACK_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type PostbackStatus = (typeof POSTBACK_STATUSES)[number];

/** The feedback events a postback reports, besides a lead's final status (README "Postbacks (for sources)"). */
export const POSTBACK_EVENTS = ['converted', 'returned', 'reversed'] as const;
export type PostbackEvent = (typeof POSTBACK_EVENTS)[number];

/** How a route orders its partners. */
export const ROUTE_STRATEGIES = ['priority', 'round_robin', 'weighted', 'auction'] as const;
export type RouteStrategy = (typeof ROUTE_STRATEGIES)[number];

/** What the routing decision came to: a route with candidates, or none (the lead becomes `unmatched`). */
export const ROUTE_OUTCOMES = ['matched', 'unmatched'] as const;
export type RouteOutcome = (typeof ROUTE_OUTCOMES)[number];

/** What happened to one candidate partner, in the lead's routing record (explainable routing). */
export const PARTNER_DECISIONS = ['skipped', 'offered', 'accepted', 'rejected', 'dead_lettered'] as const;
export type PartnerDecision = (typeof PARTNER_DECISIONS)[number];

/** How a source is paid for its leads (docs/decisions/0023-money-model.md). */
export const PAYOUT_MODELS = ['cpl', 'cpa', 'revshare'] as const;
export type PayoutModel = (typeof PAYOUT_MODELS)[number];

/** Whose side of a lead's money a ledger entry is on. */
export const LEDGER_PARTIES = ['partner', 'source'] as const;
export type LedgerParty = (typeof LEDGER_PARTIES)[number];

/** The event a ledger entry was written for. */
export const LEDGER_KINDS = ['sale', 'conversion', 'return', 'reversal', 'adjustment'] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];

/** What a partner's feedback says about a lead it bought. */
export const FEEDBACK_EVENT_KINDS = ['converted', 'returned', 'reversed', 'status'] as const;
export type FeedbackEventKind = (typeof FEEDBACK_EVENT_KINDS)[number];

/** How feedback arrived: pushed by the partner, pulled from its CRM, or filed by an operator. */
export const FEEDBACK_VIA = ['push', 'pull', 'operator'] as const;
export type FeedbackVia = (typeof FEEDBACK_VIA)[number];

/** A return's state: waiting for an operator, or decided. */
export const RETURN_STATUSES = ['pending', 'approved', 'rejected'] as const;
export type ReturnStatus = (typeof RETURN_STATUSES)[number];

/** The periods a partner's caps and their counters are kept for. */
export const CAP_PERIODS = ['hour', 'day', 'week', 'month'] as const;
export type CapPeriod = (typeof CAP_PERIODS)[number];
