/**
 * Answers of the operator's endpoints: dead letters, the lead search and a lead's whole story (README
 * "Operating it (runbook)"; the logic is @leadrouter/operations, shared with the CLI). Closed, as every answer
 * (answers.ts); the handlers return @leadrouter/operations' views, which must be of these types.
 */
import {
  ATTEMPT_OUTCOMES,
  Closed,
  Const,
  DateTime,
  DELIVERY_STATUSES,
  Json,
  LEAD_STATUSES,
  Nullable,
  OneOf,
  Type,
  Uuid,
  type DeliveryStatus,
} from '@leadrouter/core';
import { FieldErrors, PageOf } from './answers.js';
import { component } from './components.js';

const count = Type.Integer({ minimum: 0 });
const nullableString = Nullable(Type.String());

/** A lead's status, as every answer describes it. */
export const LeadStatusSchema = OneOf(LEAD_STATUSES, {
  description:
    '`queued` → `routing` → `delivered` (a partner accepted), `unsold` (every eligible partner rejected it), `unmatched` (no rule or no eligible partner) or `dead_lettered` (no partner accepted and a delivery exhausted its retries).',
});

/** Why a dead letter was not requeued, as the operator reads it (the reasons of @leadrouter/lifecycle's requeue). */
export const SKIP_REASONS = {
  not_dead_lettered: 'the delivery is not dead-lettered any more (already retried, or discarded)',
  sold: 'the lead has since been sold to as many partners as its route allows (maxDeliveries); retrying could sell it twice',
  busy: 'the lead is being delivered to other partners right now, up to its route’s maxDeliveries; retry once that settles',
  partner_paused: 'the partner is paused; resume it first (POST /v1/admin/partners/:id/resume)',
  partner_inactive: 'the partner is inactive; reactivate it first',
} as const;
type SkipReason = keyof typeof SKIP_REASONS;
const skipReasons = Object.keys(SKIP_REASONS) as SkipReason[];

export const DEAD_LETTER_STATUSES = ['dead_lettered', 'superseded'] as const satisfies readonly DeliveryStatus[];

export const DeadLetter = component(
  'DeadLetter',
  Closed(
    {
      id: Uuid({ description: 'the delivery id' }),
      leadId: Uuid(),
      partner: Type.String({ description: 'partner name' }),
      partnerId: Uuid(),
      status: OneOf(DEAD_LETTER_STATUSES, {
        description:
          '`dead_lettered`, or `superseded`: its lead has since been sold to as many partners as its route allows, through others (kept for the record; never retried)',
      }),
      attempts: count,
      retries: Type.Integer({ minimum: 0, description: 'how many times an operator retried it before' }),
      lastError: nullableString,
      at: Nullable(Type.String({ format: 'date-time', description: 'when it was dead-lettered' })),
    },
    { description: 'A delivery that exhausted its attempts.' },
  ),
);
export const DeadLetterPage = component('DeadLetterPage', PageOf(DeadLetter));

export const DeadLetterSelection = component(
  'DeadLetterSelection',
  Type.Object(
    {
      partner: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'a partner id or name' })),
      all: Type.Optional(Const(true, { description: 'every dead letter' })),
    },
    {
      additionalProperties: false,
      description: 'Exactly one of `partner` and `all`.',
      oneOf: [{ required: ['partner'] }, { required: ['all'] }],
    },
  ),
);

const deferred = (description: string) => Type.Optional(Type.Integer({ minimum: 1, description }));

export const RetryResult = component(
  'RetryResult',
  Closed({
    requeued: count,
    deferred: deferred(
      'requeued in PostgreSQL, but Redis could not take the job right now: the sweeper enqueues them within about 30 s (only when not 0)',
    ),
  }),
);

export const BulkRetryResult = component(
  'BulkRetryResult',
  Closed({
    requeued: count,
    deferred: deferred('as in a single retry (only when not 0)'),
    skipped: Type.Unsafe<Record<SkipReason, number>>(
      Closed(Object.fromEntries(skipReasons.map((k) => [k, count])), {
        description: 'dead letters left as they were, by reason',
      }),
    ),
  }),
);

export const BulkDiscardResult = component(
  'BulkDiscardResult',
  Closed({
    discarded: count,
    skipped: Closed(
      { not_dead_lettered: count },
      { description: 'dead letters left as they were: retried or discarded by someone else meanwhile' },
    ),
    settling: Type.Integer({
      minimum: 0,
      description:
        'leads that had no other dead letter: handed back to the worker, which settles them (`unsold`) and sends their postbacks',
    }),
  }),
);

export const DeadLetterConflict = component(
  'DeadLetterConflict',
  Closed({
    status: Const('rejected'),
    message: Type.String(),
    errors: FieldErrors,
    reason: OneOf(skipReasons, {
      description: Object.entries(SKIP_REASONS)
        .map(([k, v]) => `\`${k}\`: ${v}`)
        .join('; '),
    }),
    deliveryStatus: Type.Optional(
      Type.String({ description: 'the delivery’s status now, when it is no dead letter any more' }),
    ),
  }),
);

export const LeadListItem = component(
  'LeadListItem',
  Closed(
    {
      id: Uuid(),
      status: LeadStatusSchema,
      sourceId: Uuid(),
      sourceName: nullableString,
      geo: nullableString,
      createdAt: DateTime(),
      updatedAt: DateTime(),
    },
    { description: 'A lead found by a search: no personal data (get the lead itself by its id).' },
  ),
);
export const LeadSearchPage = component('LeadSearchPage', PageOf(LeadListItem));

export const LeadDetail = component(
  'LeadDetail',
  Closed({
    id: Uuid(),
    status: OneOf(LEAD_STATUSES),
    createdAt: DateTime(),
    updatedAt: DateTime(),
    source: Closed({ id: Uuid(), name: Type.String() }),
    lead: Closed({
      name: Type.String(),
      phone: Type.String({ description: 'E.164' }),
      email: nullableString,
      geo: nullableString,
      source: Nullable(Type.String({ description: 'the lead’s own traffic channel' })),
      fields: Type.Unsafe<unknown>({ type: 'object' }),
      consent: Json(),
    }),
    routing: Json({
      description:
        'the routing decision as the worker recorded it: route, strategy, maxDeliveries, candidates and, per partner, whether it was offered or skipped and why; null before routing',
    }),
    events: Type.Array(
      Closed({
        at: DateTime(),
        status: OneOf(LEAD_STATUSES),
        partner: Type.Optional(Type.String()),
        detail: Type.Optional(Json()),
      }),
    ),
    deliveries: Type.Array(
      Closed({
        id: Uuid(),
        partner: Type.String(),
        partnerId: Uuid(),
        status: OneOf(DELIVERY_STATUSES),
        attempts: count,
        retries: count,
        lastError: nullableString,
        reason: nullableString,
        price: Nullable(Type.Number()),
        deadLetteredAt: Nullable(Type.String({ format: 'date-time' })),
        createdAt: DateTime(),
        attemptLog: Type.Array(
          Closed({
            attempt: Type.Integer({ minimum: 1 }),
            outcome: OneOf(ATTEMPT_OUTCOMES),
            httpStatus: Nullable(Type.Integer()),
            durationMs: count,
            error: nullableString,
            response: Nullable(Type.String({ description: 'the start of the partner’s answer (at most 2 KiB)' })),
            at: DateTime(),
          }),
        ),
      }),
    ),
  }),
);
