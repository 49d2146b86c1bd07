/**
 * Answers of the operator's endpoints: dead letters, the lead search and a lead's whole story (README
 * "Operating it (runbook)"; the logic is @leadrouter/lifecycle, shared with the CLI). Closed, as every answer
 * (answers.ts); the handlers return @leadrouter/lifecycle' views, which must be of these types.
 */
import {
  ATTEMPT_OUTCOMES,
  Closed,
  Const,
  DateTime,
  DELIVERY_STATUSES,
  FEEDBACK_EVENT_KINDS,
  FEEDBACK_VIA,
  Dict,
  Json,
  LEAD_STATUSES,
  Nullable,
  OneOf,
  Type,
  Uuid,
  type DeliveryStatus,
} from '@leadrouter/core';
import { CurrencyAnswer } from './amounts.js';
import { FieldErrors, PageOf } from './answers.js';
import { LeadMoney, Return } from './answers-money.js';
import { MoneyText } from './answers-reports.js';
import { component, ref } from './components.js';

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
  personal_data_erased: 'the lead’s personal data was erased: there is nothing left to send',
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

/** When the lead's personal data was erased (null: kept); its name, phone, email and fields are gone then. */
export const PersonalDataErasedAt = Nullable(
  DateTime({
    description:
      'when the lead’s personal data was erased (an operator’s request, or the installation’s retention): its name, phone and email are then null and its fields empty; null while they are kept',
  }),
);

/** What an erasure of a lead's personal data answers (ADR 0031). */
export const PersonalDataErased = component(
  'PersonalDataErased',
  Closed(
    {
      id: Uuid(),
      personalDataErasedAt: DateTime({
        description: 'when its personal data was erased: now, or by an earlier request',
      }),
      alreadyErased: Type.Boolean({ description: 'true: it had been erased before, and this request changed nothing' }),
    },
    {
      description:
        'The lead’s personal data is erased: its name, phone, email, custom fields and consent, and whatever of them its partners’ answers, errors and reasons repeated. Its money, statuses, history, deliveries’ outcomes and ids stay.',
    },
  ),
);

export const LeadDetail = component(
  'LeadDetail',
  Closed({
    id: Uuid(),
    status: OneOf(LEAD_STATUSES),
    createdAt: DateTime(),
    updatedAt: DateTime(),
    source: Closed({ id: Uuid(), name: Type.String() }),
    personalDataErasedAt: PersonalDataErasedAt,
    lead: Closed({
      name: Nullable(Type.String({ description: 'null once erased' })),
      phone: Nullable(Type.String({ description: 'E.164; null once erased' })),
      email: nullableString,
      geo: nullableString,
      source: Nullable(Type.String({ description: 'the lead’s own traffic channel' })),
      fields: Type.Unsafe<unknown>({ type: 'object', description: 'empty once erased' }),
      consent: Json({ description: 'null once erased' }),
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
        reference: Nullable(
          Type.String({
            description:
              'the partner’s own reference for the lead, from its accepting answer (`responseMap.reference`): what it names the lead by in its feedback; null without one',
          }),
        ),
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
    money: ref(LeadMoney),
    feedback: Type.Array(
      Closed({
        at: DateTime({ description: 'when the partner says it happened' }),
        receivedAt: DateTime(),
        partner: Type.String(),
        event: OneOf(FEEDBACK_EVENT_KINDS),
        status: nullableString,
        outcome: Type.String({ description: 'what it did (`converted`, `return_pending`, `stale`, …)' }),
        amount: Nullable(Type.Number()),
        reason: nullableString,
        eventId: nullableString,
        via: OneOf(FEEDBACK_VIA),
      }),
      { description: 'the partners’ feedback on the lead, as received, oldest first' },
    ),
    returns: Type.Array(ref(Return), { description: 'its returns, one per sale at most' }),
  }),
);

/** Counts by a key (`additionalProperties`). */
const counts = (description: string, options: Record<string, unknown> = {}) => Dict(count, { description, ...options });
const byLeadStatus = () => counts('leads by current status', { propertyNames: { enum: LEAD_STATUSES } });
const rate = (description: string) => Nullable(Type.Number({ minimum: 0, description }));
/** The money since a time and the partners' events behind it (ADR 0028), of the whole, a source or a partner. */
const moneyStats = (whose: string) => ({
  sales: count,
  conversions: count,
  returns: Type.Integer({ minimum: 0, description: 'approved returns' }),
  reversals: count,
  revenue: MoneyText(`what partners paid ${whose}, net of returns and reversals, with adjustments`),
  cost: MoneyText(`what sources are paid ${whose}, net of clawbacks and reversals, with adjustments`),
  margin: MoneyText('revenue − cost'),
  conversionRate: rate('conversions / sales'),
  returnRate: rate('returns / sales'),
  reversalRate: rate('reversals / conversions: a warning sign of “shaving”'),
});

const averageBid = (of: string) =>
  Type.Union([MoneyText(of), Type.Null()], { description: `${of}; null without a bid` });

/** A partner's auctions since then (sources' pings and leads' own auctions; ADR 0032). */
const partnerPings = Closed(
  {
    pings: Type.Integer({ minimum: 0, description: 'pings sent to it' }),
    bids: Type.Integer({ minimum: 0, description: 'bids it answered (a fixed price counts as its bid)' }),
    wins: Type.Integer({ minimum: 0, description: 'auctions its bid was the best of' }),
    winRate: rate('wins / bids'),
    averageBid: averageBid('its average bid, to 4 places'),
  },
  { description: 'its auctions since then' },
);

/** A source's pings since then (POST /v1/pings). */
const sourcePings = Closed(
  {
    pings: Type.Integer({ minimum: 0, description: 'pings it sent' }),
    bids: Type.Integer({ minimum: 0, description: 'pings answered with a bid' }),
    posted: Type.Integer({ minimum: 0, description: 'leads it posted against a ping' }),
    winRate: rate('posted / bids'),
    averageBid: averageBid('the average bid it was answered (its payout on the best bid), to 4 places'),
  },
  { description: 'its pings since then' },
);

export const Stats = component(
  'Stats',
  Closed({
    since: DateTime(),
    currency: CurrencyAnswer(
      'the ISO 4217 code of every amount here (`revenue`, `cost`, `margin`, `averageBid`, exact decimal text): the installation’s `CURRENCY`',
    ),
    leads: Closed({ received: count, byStatus: byLeadStatus() }),
    rejections: Closed({
      total: count,
      byReason: counts('answers that did not accept a lead, by reason (`invalid`, `duplicate`, `rate_limited`, …)'),
    }),
    ...moneyStats('since then'),
    sources: Type.Array(
      Closed({
        sourceId: Type.Union([Uuid(), Type.Null()], { description: 'null: requests without a valid key' }),
        name: nullableString,
        leads: byLeadStatus(),
        received: count,
        rejections: counts('rejections by reason'),
        pings: sourcePings,
        ...moneyStats('for this source’s leads'),
      }),
    ),
    partners: Type.Array(
      Closed({
        partnerId: Uuid(),
        name: Type.String(),
        deliveries: Closed(
          {
            pending: count,
            accepted: Type.Integer({ minimum: 0, description: 'the leads this partner bought' }),
            rejected: count,
            dead_lettered: count,
            superseded: Type.Integer({
              minimum: 0,
              description: 'dead letters whose lead was since sold through other partners',
            }),
          } satisfies Record<DeliveryStatus, unknown>,
          { description: 'deliveries (lead × partner) created since then, by current status' },
        ),
        attempts: Type.Integer({ minimum: 0, description: 'requests sent for them, retries included' }),
        pings: partnerPings,
        ...moneyStats('this partner'),
      }),
      { description: 'partners with deliveries created, money or pings since then, by name' },
    ),
  }),
);

export const TIMELINE_STEPS = ['minute', 'hour'] as const;

export const Timeline = component(
  'Timeline',
  Closed({
    since: DateTime(),
    until: DateTime(),
    step: OneOf(TIMELINE_STEPS),
    points: Type.Array(
      Closed({
        at: DateTime({ description: 'the start of the step' }),
        received: Type.Integer({ minimum: 0, description: 'leads received in the step' }),
        delivered: Type.Integer({ minimum: 0, description: 'of those, delivered by now' }),
      }),
      { description: 'one per step from `since` (rounded down) to `until`, zeros included' },
    ),
  }),
);

export const QueueDepths = component(
  'QueueDepths',
  Closed({
    queues: Type.Array(Closed({ name: Type.String(), waiting: count, active: count, delayed: count, failed: count })),
    deadLetters: Type.Integer({ minimum: 0, description: 'dead-lettered deliveries not yet retried or discarded' }),
  }),
);

const offered = (description: string) => Type.Array(Uuid(), { description });
const replay = {
  routeId: Nullable(Type.String({ description: 'the route that would decide (null: none matches)' })),
  routeName: nullableString,
  offered: offered('partner ids the lead would be offered to first, in order'),
  reason: Type.Optional(Type.String({ description: 'why nothing would be offered' })),
};
const countOf = (description: string) => Type.Integer({ minimum: 0, description });

export const DryRun = component(
  'DryRun',
  Closed({
    leads: countOf('stored leads replayed: the most recent, up to `limit`'),
    from: Nullable(Type.String({ format: 'date-time' })),
    to: Nullable(Type.String({ format: 'date-time' })),
    notReplayed: Type.Array(Type.String(), { description: 'what a replay cannot check' }),
    partners: Type.Array(
      Closed({
        partnerId: Uuid(),
        name: Type.String(),
        draft: countOf('leads the draft would offer it first'),
        current: countOf('leads the rules as stored would offer it first, replayed the same way'),
        actual: countOf('leads it was really offered (any outcome, waterfall included)'),
      }),
    ),
    unrouted: Closed({ draft: count, current: count, actual: count }),
    changed: countOf('leads whose first offers differ between the draft and the stored rules'),
    sample: Type.Array(
      Closed({
        leadId: Uuid(),
        createdAt: DateTime(),
        draft: Closed({
          routeId: replay.routeId,
          routeName: replay.routeName,
          offered: replay.offered,
          skipped: Type.Array(Closed({ partnerId: Uuid(), reason: Type.String() }), {
            description: 'candidates that would not be offered, and why',
          }),
          reason: replay.reason,
        }),
        current: Closed(replay),
        actual: Closed({ offered: Type.Array(Uuid()) }),
      }),
      { description: 'the most recent changed leads' },
    ),
  }),
);
