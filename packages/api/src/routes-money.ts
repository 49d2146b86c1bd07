/**
 * The route table's money operations (README "Money", "Feedback from partners"; ADR 0026): partner feedback,
 * the returns queue, operator-filed returns, adjustments, and feedback keys.
 */
import { List, RETURN_STATUSES, Type, Uuid, type Static } from '@leadrouter/core';
import {
  FeedbackBatch,
  FeedbackBatchResults,
  FeedbackDuplicate,
  FeedbackEvent,
  FeedbackRecorded,
  LedgerEntry,
  MAX_FEEDBACK_BATCH,
  Return,
  ReturnPage,
} from './answers-money.js';
import { PartnerFeedbackKeyRotated, StatusPullView } from './answers.js';
import { AdjustmentCreate, ReturnFile, ReturnReject } from './bodies.js';
import { EXAMPLE_ID, EXAMPLE_LEAD_ID, EXAMPLE_PARTNER_ID, EXAMPLE_SOURCE_ID } from './examples.js';
import { ref } from './components.js';
import { pageParameters } from './pagination.js';
import { route } from './table.js';

const idOf = (what: string) =>
  Type.Object({ id: Uuid({ description: `${what} id (anything that is not a UUID is a \`404\`)` }) });

export const sendFeedback = route({
  method: 'post',
  path: '/v1/feedback',
  party: 'partner',
  operationId: 'sendFeedback',
  tag: 'Feedback',
  summary: 'Report what became of leads you bought',
  description: [
    'With your feedback key (`Authorization: Bearer lrf_…`, issued when you were set up). One event, or `{"events": […]}` with up to ' +
      `${MAX_FEEDBACK_BATCH}, each answered in order as it would be alone (\`207\`).`,
    '',
    'Name the lead by `leadId` (ours: the `X-Lead-Id` header of its delivery) or by `reference` (yours, from your answer to the delivery). A lead you did not buy is a `404`.',
    '',
    '- `converted`: what you pay for it is `amount`, else your `conversionPrice`. Once per lead.',
    '- `returned`: within your returns window of the sale (else `422`); approved at once or by an operator, as agreed.',
    '- `reversed`: a conversion taken back. One that arrives before its conversion waits for it.',
    '- `status`: your own status text, which your `statusMap` turns into one of the above (case-insensitively); the same status again, one it does not name, or one older (`at`) than the last you sent, changes nothing.',
    '',
    'Send an `eventId` with each event: the same id again is answered `200 {"status":"duplicate"}` and recorded once, whenever and however often it is sent.',
  ].join('\n'),
  // Read by @leadrouter/lifecycle (parseFeedback): each event of a batch gets its own answer.
  body: {
    schema: Type.Unsafe<Static<typeof FeedbackEvent> | Static<typeof FeedbackBatch>>({
      oneOf: [ref(FeedbackEvent), ref(FeedbackBatch)],
    }),
    unchecked: true,
    limit: '1mb',
    example: { reference: 'B-20931', event: 'converted', amount: 40, eventId: 'evt_8812', at: '2026-01-31T12:00:00Z' },
  },
  answers: {
    202: {
      description: 'Recorded, with what it did.',
      schema: FeedbackRecorded,
      example: { status: 'recorded', outcome: 'converted' },
    },
    200: { description: 'Already recorded: nothing more was done.', schema: FeedbackDuplicate },
    207: { description: 'A batch: each event’s answer, in order.', schema: FeedbackBatchResults },
    401: 'Unauthorized',
    404: { description: 'You did not buy this lead (or no lead of yours has this reference).', error: true },
    422: 'Invalid',
    429: 'RateLimited',
  },
});

export const rotatePartnerFeedbackKey = route({
  method: 'post',
  path: '/v1/admin/partners/{id}/rotate-feedback-key',
  party: 'admin',
  operationId: 'rotatePartnerFeedbackKey',
  tag: 'Partners',
  summary: 'Issue a new feedback key',
  description:
    'The partner’s previous feedback key stops working at once (a partner created before keys existed gets its first). The new key is shown only in this answer.',
  params: idOf('partner'),
  resource: 'partner',
  answers: {
    200: { description: 'The partner, with its new feedback key.', schema: PartnerFeedbackKeyRotated },
    404: 'NotFound',
  },
});

export const runStatusPull = route({
  method: 'post',
  path: '/v1/admin/partners/{id}/status-pull',
  party: 'admin',
  operationId: 'runStatusPull',
  tag: 'Partners',
  summary: 'Pull a partner’s statuses now',
  description:
    'Makes the partner’s next status pull due at once: a worker starts it within a second or two, and the partner’s `statusPull` shows how it went (`lastRunAt`, `ok`, `error`, `updated`). One pull per partner runs at a time: while one runs, this is a `409` (its results are on the way). A partner without `statusPull`, paused or inactive is not pulled: `409` too.',
  params: idOf('partner'),
  resource: 'partner',
  answers: {
    202: { description: 'The pull is due now.', schema: StatusPullView },
    404: 'NotFound',
    409: {
      description: 'A pull of this partner is running, or it has no `statusPull`, or it is paused or inactive.',
      error: true,
    },
  },
});

export const listReturns = route({
  method: 'get',
  path: '/v1/admin/returns',
  party: 'admin',
  operationId: 'listReturns',
  tag: 'Returns',
  summary: 'The returns queue',
  description:
    'Returns oldest first, `pending` ones by default (`status=pending,approved,rejected` for others), optionally of one partner. Unknown parameters are a `422`.',
  query: Type.Object({
    status: Type.Optional(
      List(RETURN_STATUSES, {
        description: 'one or more of pending, approved, rejected, comma-separated (default `pending`)',
        example: 'pending',
      }),
    ),
    partner: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'a partner’s id or name' })),
    ...pageParameters,
  }),
  answers: { 200: { description: 'A page of returns.', schema: ReturnPage }, 422: 'Invalid' },
});

const returnId = idOf('return');

export const approveReturn = route({
  method: 'post',
  path: '/v1/admin/returns/{id}/approve',
  party: 'admin',
  operationId: 'approveReturn',
  tag: 'Returns',
  summary: 'Approve a return',
  description:
    'Credits the partner what it paid for the lead (a negative `return` entry), takes back the source’s payout for that sale unless the source has `clawback: false`, tells the source (a `returned` postback with the reason) and, once every buyer of the lead has returned it, moves the lead to `returned`. Approving an approved return again changes nothing.',
  params: returnId,
  resource: 'return',
  answers: {
    200: { description: 'The approved return.', schema: Return },
    404: 'NotFound',
    409: { description: 'The return was rejected.', error: true },
  },
});

export const rejectReturn = route({
  method: 'post',
  path: '/v1/admin/returns/{id}/reject',
  party: 'admin',
  operationId: 'rejectReturn',
  tag: 'Returns',
  summary: 'Reject a return',
  description:
    'The partner keeps the lead and pays for it; nothing is written to the ledger. Rejecting a rejected return again changes nothing.',
  params: returnId,
  resource: 'return',
  body: { schema: ReturnReject, example: { reason: 'the number was reached on the second call' } },
  answers: {
    200: { description: 'The rejected return.', schema: Return },
    404: 'NotFound',
    409: { description: 'The return was approved already.', error: true },
  },
});

export const fileReturn = route({
  method: 'post',
  path: '/v1/admin/leads/{id}/returns',
  party: 'admin',
  operationId: 'fileReturn',
  tag: 'Returns',
  summary: 'File a partner’s return of a lead',
  description:
    'For a partner that bought the lead (asked by e-mail, say): approved at once, as if approved from the queue — the partner’s returns window does not bind an operator.',
  params: idOf('lead'),
  resource: 'lead',
  body: { schema: ReturnFile, example: { partnerId: EXAMPLE_PARTNER_ID, reason: 'disconnected number' } },
  answers: {
    201: { description: 'The approved return.', schema: Return },
    404: 'NotFound',
    409: { description: 'The partner’s sale of this lead has a return already (see the queue).', error: true },
  },
});

export const addAdjustment = route({
  method: 'post',
  path: '/v1/admin/leads/{id}/adjustments',
  party: 'admin',
  operationId: 'addAdjustment',
  tag: 'Returns',
  summary: 'Correct a lead’s money by hand',
  description:
    'One signed `adjustment` entry on the partner’s side (revenue) or the source’s (cost); entries are never changed, so a correction is a new one. With an `Idempotency-Key`, the same request again records nothing more and answers the entry with `200`.',
  params: idOf('lead'),
  resource: 'lead',
  headers: [
    {
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description: 'any text (at most 200 characters): the same key for the same lead records one adjustment',
      schema: { type: 'string', minLength: 1, maxLength: 200 },
    },
  ],
  body: {
    schema: AdjustmentCreate,
    example: { party: 'source', partyId: EXAMPLE_SOURCE_ID, amount: -2.5, note: 'duplicate lead paid twice in March' },
  },
  answers: {
    201: {
      description: 'The entry.',
      schema: LedgerEntry,
      example: {
        id: EXAMPLE_ID,
        leadId: EXAMPLE_LEAD_ID,
        party: 'source',
        partyId: EXAMPLE_SOURCE_ID,
        kind: 'adjustment',
        amount: -2.5,
        deliveryId: null,
        note: 'duplicate lead paid twice in March',
        at: '2026-01-31T12:00:00.000Z',
      },
    },
    200: { description: 'The entry this Idempotency-Key recorded before.', schema: LedgerEntry },
    404: 'NotFound',
  },
});
