/**
 * The admin API's answers, each a TypeBox schema: the OpenAPI document shows them, and the handlers' views are
 * typed by them (`Static<typeof Source>`), so a field a view writes is a field the document describes. They
 * are closed (no other properties; every property the view always writes is required), and
 * test/e2e/openapi.test.ts validates real answers against them.
 */
import {
  Closed,
  Const,
  DateTime,
  FiltersSchema,
  Nullable,
  OneOf,
  PingSchema,
  ROUTE_STRATEGIES,
  STATUS_PULL_METHODS,
  StatusPullSchema,
  Type,
  Uuid,
  type Static,
  type TSchema,
} from '@leadrouter/core';
import { AmountAnswer, PayoutAnswer } from './amounts.js';
import { partnerProperties as partnerInput } from './bodies.js';
import { component, ref } from './components.js';

const nullableString = Nullable(Type.String());
const nullableInteger = Nullable(Type.Integer());
/** `schema`, or null (as `anyOf`, for a reference). */
const orNull = <S extends TSchema>(schema: S, options: Record<string, unknown> = {}) =>
  Type.Union([schema, Type.Null()], options);

/** A problem with the request, addressed to its field where it has one. */
export const FieldErrors = Type.Array(
  Closed({
    field: Type.Optional(
      Type.String({ description: 'JSON pointer into the body (`/phone`), or a header or parameter name' }),
    ),
    message: Type.String(),
  }),
);

export const ErrorBody = component(
  'Error',
  Closed(
    {
      status: OneOf(['rejected', 'error'], { description: '`error` for 5xx answers, `rejected` otherwise' }),
      message: Type.String(),
      errors: Type.Array(FieldErrors.items, {
        minItems: 1,
        description: 'every problem found, not only the first',
      }),
      reason: Type.Optional(
        Type.String({
          description:
            'why, as a word a program can test, on answers that have one: `ping_expired`, `no_bid` (a post against a ping)',
        }),
      ),
    },
    { description: 'Every error answer has this shape.' },
  ),
);

/** A page of a list: `{items, nextCursor}` (pagination.ts). */
export function PageOf<S extends TSchema>(item: S, cursor: TSchema = Type.String()) {
  return Closed({
    items: Type.Array(ref(item)),
    nextCursor: Type.Unsafe<string | null>({
      ...orNull(cursor),
      description: 'pass as `cursor` for the next page; null on the last page',
    }),
  });
}

const sourceProperties = {
  id: Uuid(),
  name: Type.String(),
  apiKeyPrefix: Type.String({ description: 'the first characters of the API key, to recognise it' }),
  postbackUrl: Nullable(Type.String({ format: 'uri' })),
  hasPostbackSecret: Type.Boolean(),
  rateLimitPerMinute: Nullable(Type.Integer({ description: 'leads per minute; null: no limit' })),
  duplicateWindowHours: Type.Integer({ description: '0: duplicate checks are off' }),
  payout: PayoutAnswer,
  clawback: Type.Boolean({
    description: 'whether an approved return takes back what the source was paid for the sale',
  }),
  active: Type.Boolean({ description: 'false: the key no longer works' }),
  createdAt: DateTime(),
  updatedAt: DateTime(),
};
const apiKey = Type.String({
  pattern: '^lr_',
  description: 'the source’s API key — shown only in this answer; store it now',
});

export const Source = component('Source', Closed(sourceProperties));
export const SourceCreated = component(
  'SourceCreated',
  Closed(
    {
      ...sourceProperties,
      apiKey,
      postbackSecret: Type.String({
        pattern: '^whsec_',
        description: 'signs postbacks (Standard Webhooks) — shown only in this answer',
      }),
    },
    { description: 'The new source, with its API key and postback secret: both are shown only this once.' },
  ),
);
export const SourceKeyRotated = component(
  'SourceKeyRotated',
  Closed(
    { ...sourceProperties, apiKey },
    { description: 'The source with its new API key; the previous key stopped working.' },
  ),
);
export const SourcePage = component('SourcePage', PageOf(Source));

/** A stored JSON column, shown as the body gave it (the body's schema without its `Optional`). */
const asStored = <S extends TSchema>(schema: S) => Type.Unsafe<Exclude<Static<S>, undefined>>({ ...schema });

const leadLimitUse = (limit: string) =>
  Type.Optional(
    Closed(
      {
        limit: Type.Integer({ minimum: 0 }),
        used: Type.Integer({ minimum: 0, description: 'leads pending or accepted, offered in the current period' }),
        remaining: Type.Integer({ minimum: 0, description: 'leads it can still be offered in the period' }),
        periodStart: DateTime({ description: 'the start of the current period, on the partner’s clock' }),
      },
      { description: `its \`${limit}\` cap and how much of it the current period has used` },
    ),
  );
const budgetUse = (limit: string) =>
  Type.Optional(
    Closed(
      {
        limit: AmountAnswer('the budget'),
        used: AmountAnswer(
          'what the period’s sales cost it, with what its pending leads reserve (answer prices can take it past the limit)',
        ),
        remaining: AmountAnswer('what is left of it (0 once used up)'),
        periodStart: DateTime({ description: 'the start of the current period, on the partner’s clock' }),
      },
      { description: `its \`${limit}\` and how much of it the current period has used` },
    ),
  );

/** A partner's `statusPull` as shown: its settings (defaults filled in) and how its last pull went. */
export const StatusPullView = component(
  'StatusPullView',
  Closed(
    {
      ...StatusPullSchema.properties,
      method: OneOf(STATUS_PULL_METHODS),
      headers: Type.Unsafe<Record<string, string>>({ type: 'object', additionalProperties: { type: 'string' } }),
      intervalSeconds: Type.Integer(),
      lookbackHours: Type.Integer(),
      lastRunAt: Nullable(
        DateTime({ description: 'when the last finished pull started; null: none has finished yet' }),
      ),
      ok: Nullable(
        Type.Boolean({ description: 'whether the last pull read every page of the partner’s answer; null: none yet' }),
      ),
      error: Type.Optional(Type.String({ description: 'why the last pull failed (only when `ok` is false)' })),
      updated: Type.Integer({ minimum: 0, description: 'sales whose status the last pull changed' }),
      running: Type.Boolean({ description: 'a pull is running now' }),
      nextRunAt: Nullable(
        DateTime({
          description:
            'when the next pull is due (while one runs: when its lease ends); null: at once. Paused and inactive partners are not pulled.',
        }),
      ),
    },
    {
      description:
        'The partner’s status pull: its settings as they apply, and its last run (`POST /v1/admin/partners/{id}/status-pull` runs one now).',
    },
  ),
);

/** A partner's `ping` as shown: its settings, defaults filled in. */
export const PingView = component(
  'PingView',
  Closed(
    {
      ...PingSchema.properties,
      method: Type.String(),
      headers: Type.Unsafe<Record<string, string>>({ type: 'object', additionalProperties: { type: 'string' } }),
      timeoutMs: Type.Integer(),
      bidPath: Type.String(),
    },
    { description: 'How the partner is asked for a bid (ADR 0032), its defaults filled in.' },
  ),
);

const partnerProperties = {
  id: Uuid(),
  name: Type.String(),
  url: Type.String({ format: 'uri' }),
  method: OneOf(['POST', 'PUT', 'PATCH']),
  headers: Type.Unsafe<Record<string, string>>({ type: 'object', additionalProperties: { type: 'string' } }),
  hasSecret: Type.Boolean({ description: 'whether deliveries are signed (the secret itself is never shown)' }),
  fieldMap: asStored(partnerInput.fieldMap),
  acceptWhen: asStored(partnerInput.acceptWhen),
  responseMap: asStored(partnerInput.responseMap),
  timeoutMs: Type.Integer(),
  maxAttempts: Type.Integer(),
  backoff: Closed({ delayMs: Type.Integer(), maxDelayMs: Type.Integer() }),
  caps: Closed(
    {
      hourly: nullableInteger,
      daily: nullableInteger,
      weekly: nullableInteger,
      monthly: nullableInteger,
      dailyBudget: Nullable(AmountAnswer('the most it pays for leads per day')),
      monthlyBudget: Nullable(AmountAnswer('the most it pays for leads per calendar month')),
    },
    { description: 'its limits as set (null: none)' },
  ),
  capsInUse: Closed(
    {
      hourly: leadLimitUse('hourly'),
      daily: leadLimitUse('daily'),
      weekly: leadLimitUse('weekly'),
      monthly: leadLimitUse('monthly'),
      dailyBudget: budgetUse('dailyBudget'),
      monthlyBudget: budgetUse('monthlyBudget'),
    },
    { description: 'each limit it has, with what is used and left of it now (a limit it does not have is absent)' },
  ),
  schedule: asStored(partnerInput.schedule),
  filters: orNull(ref(FiltersSchema)),
  concurrency: nullableInteger,
  price: Nullable(AmountAnswer('what it pays per lead, unless its answer says')),
  conversionPrice: Nullable(AmountAnswer('what it pays per conversion reported without an amount')),
  returns: Closed({
    windowDays: Type.Integer({ description: 'days after the sale it may return a lead; 0: no returns' }),
    autoApprove: Type.Boolean({ description: 'its returns are approved at once, not queued for an operator' }),
  }),
  statusMap: Type.Unsafe<Record<string, string> | null>({
    type: ['object', 'null'],
    additionalProperties: { type: 'string' },
    description: 'its raw statuses to the events they mean',
  }),
  statusPull: orNull(ref(StatusPullView), { description: 'null: its statuses are not pulled' }),
  ping: orNull(ref(PingView), { description: 'null: it is not pinged (on an auction route it bids its `price`)' }),
  feedbackKeyPrefix: Nullable(
    Type.String({ description: 'the first characters of its feedback key; null: it has none (rotate to issue one)' }),
  ),
  pauseAfterFailures: Type.Integer(),
  active: Type.Boolean(),
  status: OneOf(['active', 'paused', 'inactive'], {
    description:
      '`paused`: the circuit breaker tripped (or the partner answered 410); resume with POST …/resume. `inactive`: `active` is false.',
  }),
  pausedAt: Nullable(Type.String({ format: 'date-time' })),
  pauseReason: nullableString,
  createdAt: DateTime(),
  updatedAt: DateTime(),
};
export const Partner = component('Partner', Closed(partnerProperties));
const feedbackKey = Type.String({
  pattern: '^lrf_',
  description:
    'the key the partner sends feedback with (`POST /v1/feedback`) — shown only in this answer; store it now',
});
export const PartnerCreated = component(
  'PartnerCreated',
  Closed(
    { ...partnerProperties, feedbackKey },
    { description: 'The new partner, with its feedback key: shown only this once.' },
  ),
);
export const PartnerFeedbackKeyRotated = component(
  'PartnerFeedbackKeyRotated',
  Closed(
    { ...partnerProperties, feedbackKey },
    { description: 'The partner with its new feedback key; the previous key stopped working.' },
  ),
);
export const PartnerResumed = component(
  'PartnerResumed',
  Closed(
    {
      ...partnerProperties,
      requeued: Type.Integer({ minimum: 0, description: 'retries that waited while it was paused, due now' }),
    },
    { description: 'The resumed partner, and how many of its parked retries were requeued.' },
  ),
);
export const PartnerPage = component('PartnerPage', PageOf(Partner));

export const Route = component(
  'Route',
  Closed({
    id: Uuid(),
    name: Type.String(),
    priority: Type.Integer(),
    filters: orNull(ref(FiltersSchema)),
    partners: Type.Array(Closed({ partnerId: Uuid(), weight: Type.Integer() }), { description: 'in order' }),
    strategy: OneOf(ROUTE_STRATEGIES),
    auction: Nullable(
      Closed(
        {
          timeoutMs: Type.Integer(),
          floor: AmountAnswer('bids below this are no bids'),
        },
        { description: 'an auction route’s deadline and floor, defaults filled in; null for other strategies' },
      ),
    ),
    maxDeliveries: Type.Integer(),
    active: Type.Boolean(),
    createdAt: DateTime(),
    updatedAt: DateTime(),
  }),
);
export const RoutePage = component('RoutePage', PageOf(Route));

const count = Type.Integer({ minimum: 0 });

export const PartnerTestReport = component(
  'PartnerTestReport',
  Closed({
    outcome: OneOf(['accepted', 'rejected', 'retry'], {
      description: 'what a delivery would make of the answer (`retry`: it would be retried with backoff)',
    }),
    reason: Type.Optional(Type.String({ description: 'why it was not accepted' })),
    note: Type.Optional(Type.String()),
    httpStatus: Nullable(Type.Integer({ description: 'null when no answer came (timeout, connection error)' })),
    durationMs: Type.Integer({ minimum: 0 }),
    error: nullableString,
    response: Nullable(Type.String({ description: 'the first 2 KiB of the partner’s answer' })),
    answer: Closed(
      {
        price: Type.Optional(Type.Number()),
        reason: Type.Optional(Type.String()),
        reference: Type.Optional(Type.String()),
      },
      { description: 'what the partner’s `responseMap` read from its answer' },
    ),
    request: Closed(
      {
        method: Type.String(),
        url: Type.String(),
        headers: Type.Unsafe<Record<string, string>>({ type: 'object', additionalProperties: { type: 'string' } }),
        body: Type.Unsafe<unknown>({ description: 'the JSON body sent' }),
      },
      { description: 'the request as sent' },
    ),
  }),
);

const capUse = Closed({
  used: Type.Integer({ minimum: 0, description: 'deliveries pending or accepted in the period' }),
  limit: Nullable(Type.Integer({ description: 'the cap; null: none' })),
  periodStart: DateTime({ description: 'the start of the current period on the partner’s clock' }),
});

export const PartnerHealth = component(
  'PartnerHealth',
  Closed({
    partnerId: Uuid(),
    since: DateTime(),
    deliveries: Closed(
      { pending: count, accepted: count, rejected: count, dead_lettered: count },
      { description: 'deliveries created since `since`, by current status' },
    ),
    attempts: Type.Integer({ minimum: 0, description: 'requests sent for them, retries included' }),
    successRate: Type.Unsafe<number | null>({
      type: ['number', 'null'],
      minimum: 0,
      maximum: 1,
      description: 'accepted / (accepted + rejected + dead-lettered); null before any settled',
    }),
    consecutiveFailures: count,
    pauseAfterFailures: count,
    lastError: orNull(
      Closed({
        at: DateTime(),
        outcome: Type.String(),
        error: nullableString,
        httpStatus: nullableInteger,
      }),
    ),
    caps: Closed({ hour: capUse, day: capUse }),
  }),
);

/** The console's session (ADR 0018). */
export const Session = component(
  'Session',
  Closed({
    csrfToken: Type.String({
      description: 'send it as `X-CSRF-Token` with every request that changes something and carries the cookie',
    }),
    expiresAt: DateTime({ description: 'when the session ends (12 h after sign-in)' }),
  }),
);

/** Liveness and readiness (GET /healthz, GET /readyz). */
export const Health = component('Health', Closed({ status: Const('ok') }));
export const Readiness = component(
  'Readiness',
  Closed({
    status: OneOf(['ok', 'unavailable']),
    checks: Closed({ redis: Type.Boolean(), postgres: Type.Boolean() }),
  }),
);
