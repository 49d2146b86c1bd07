/**
 * Bodies and answers of the money operations (ADR 0026): partner feedback, returns, adjustments, and a lead's
 * money as the admin token sees it.
 */
import {
  Closed,
  DateTime,
  FEEDBACK_EVENT_KINDS,
  FEEDBACK_VIA,
  LEDGER_KINDS,
  LEDGER_PARTIES,
  Nullable,
  OneOf,
  RETURN_STATUSES,
  Type,
  Uuid,
  type Static,
} from '@leadrouter/core';
import { AmountAnswer, AmountInput, CurrencyAnswer } from './amounts.js';
import { PageOf } from './answers.js';
import { component, ref } from './components.js';

/** The most events one `POST /v1/feedback` takes. */
export const MAX_FEEDBACK_BATCH = 500;

/** What a recorded feedback event did (kept with it, and answered). */
export const FEEDBACK_OUTCOMES = [
  'converted',
  'reversed',
  'returned',
  'return_pending',
  'awaiting_conversion',
  'unchanged',
  'unmapped',
  'stale',
  'already_converted',
  'already_reversed',
  'already_returned',
  'not_converted',
] as const;

export const FeedbackEvent = component(
  'FeedbackEvent',
  Closed(
    {
      leadId: Type.Optional(Uuid({ description: 'our id of the lead (the `X-Lead-Id` of its delivery)' })),
      reference: Type.Optional(
        Type.String({ minLength: 1, maxLength: 200, description: 'your own reference for the lead, from your answer' }),
      ),
      event: OneOf(FEEDBACK_EVENT_KINDS, {
        description:
          '`converted`, `returned`, `reversed` (a conversion taken back), or `status` with your raw `status`, which your `statusMap` turns into one of the others',
      }),
      status: Type.Optional(
        Type.String({ minLength: 1, maxLength: 200, description: 'your own status text (required for `status`)' }),
      ),
      amount: Type.Optional(AmountInput('what you pay for the conversion (default: your `conversionPrice`)')),
      reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'why (a return’s reason)' })),
      eventId: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 200,
          description: 'your id for this event: the same id again is answered `200 duplicate` and recorded once',
        }),
      ),
      at: Type.Optional(DateTime({ description: 'when it happened (default: when it arrives)' })),
    },
    { description: 'One event about a lead you bought, named by `leadId` or by `reference` (one of them).' },
  ),
);
export type FeedbackEventBody = Static<typeof FeedbackEvent>;

export const FeedbackBatch = component(
  'FeedbackBatch',
  Closed({ events: Type.Array(ref(FeedbackEvent), { minItems: 1, maxItems: MAX_FEEDBACK_BATCH }) }),
);

export const FeedbackRecorded = component(
  'FeedbackRecorded',
  Closed({
    status: OneOf(['recorded']),
    outcome: OneOf(FEEDBACK_OUTCOMES, {
      description:
        'what it did: `converted`, `reversed`, `returned` (approved at once), `return_pending` (an operator decides), `awaiting_conversion` (a reversal before its conversion: applied when that comes), `unchanged` (the same status again), `unmapped` (a status your statusMap does not name), `stale` (older than the status you last reported), `already_…`, `not_converted` (a status meaning reversed, of a lead not converted)',
    }),
  }),
);

export const FeedbackDuplicate = component(
  'FeedbackDuplicate',
  Closed(
    { status: OneOf(['duplicate']) },
    { description: 'The same `eventId` again, or an event that happened already (a second conversion of one lead).' },
  ),
);

const feedbackRejected = Closed({
  status: OneOf(['rejected']),
  httpStatus: OneOf([404, 422], { description: 'what the event alone would have been answered' }),
  message: Type.String(),
  errors: Type.Array(Closed({ field: Type.Optional(Type.String()), message: Type.String() })),
});

export const FeedbackBatchResults = component(
  'FeedbackBatchResults',
  Closed({
    results: Type.Array(
      Type.Union([ref(FeedbackRecorded), ref(FeedbackDuplicate), feedbackRejected], {
        description: 'each event’s answer, in the order sent',
      }),
    ),
  }),
);

export const Return = component(
  'Return',
  Closed({
    id: Uuid(),
    leadId: Uuid(),
    partner: Closed({ id: Uuid(), name: Type.String() }),
    status: OneOf(RETURN_STATUSES),
    reason: Type.String(),
    filedVia: OneOf(FEEDBACK_VIA, { description: '`push`: the partner’s feedback; `operator`: filed for it' }),
    amount: Nullable(AmountAnswer('what the partner paid for the lead: what an approved return credits it')),
    soldAt: Nullable(DateTime()),
    decidedBy: Nullable(Type.String({ description: '`auto` (the partner’s autoApprove) or `operator`' })),
    decidedAt: Nullable(DateTime()),
    decisionReason: Nullable(Type.String({ description: 'why it was rejected' })),
    createdAt: DateTime(),
  }),
);
export const ReturnPage = component('ReturnPage', PageOf(Return));

export const LedgerEntry = component(
  'LedgerEntry',
  Closed({
    id: Uuid(),
    leadId: Uuid({ description: 'the lead it belongs to' }),
    party: OneOf(LEDGER_PARTIES, { description: '`partner`: revenue; `source`: cost' }),
    partyId: Uuid(),
    kind: OneOf(LEDGER_KINDS),
    amount: AmountAnswer('signed: returns and reversals are negative'),
    deliveryId: Nullable(Uuid({ description: 'the sale it belongs to' })),
    note: Type.Optional(Type.String()),
    at: DateTime(),
  }),
);

export const LeadMoney = component(
  'LeadMoney',
  Closed(
    {
      revenue: AmountAnswer('what partners paid (their entries’ sum)'),
      cost: AmountAnswer('what the source is paid (its entries’ sum)'),
      margin: AmountAnswer('revenue − cost'),
      currency: CurrencyAnswer(),
      entries: Type.Array(ref(LedgerEntry), { description: 'the ledger, oldest first' }),
    },
    { description: 'The lead’s money (admin only).' },
  ),
);
