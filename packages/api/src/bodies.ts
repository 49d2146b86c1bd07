/**
 * Request bodies of the admin API, each a TypeBox schema (one definition: Ajv validates requests with it, the
 * OpenAPI document shows it, and its type is what a handler receives). What JSON Schema cannot say (a real
 * timezone, allowed headers, compiling patterns, partners that exist) the handlers check beside it, and one
 * 422 lists every problem.
 */
import { AmountInput, NullableAmountInput, PayoutInput, ReturnsInput, StatusMapInput } from './amounts.js';
import { component } from './components.js';
import {
  AcceptWhenSchema,
  Closed,
  FieldMapSchema,
  FiltersSchema,
  LeadPingSchema,
  LeadSchema,
  Nullable,
  NullableFilters,
  OneOf,
  PartnerHeadersSchema,
  PingSchema,
  ResponseMapSchema,
  ROUTE_STRATEGIES,
  ScheduleSchema,
  StatusPullSchema,
  Type,
  Uuid,
  type FieldMap,
  type Ping,
  type Static,
  type StatusPull,
  type TSchema,
} from '@leadrouter/core';

/** The lead and the filters, named in the document. */
export const Lead = component('Lead', LeadSchema);
/** A ping: the lead without its contact data (README "Ping then post (for sources)"). */
export const LeadPing = component('LeadPing', LeadPingSchema);
component('Filters', FiltersSchema);

const name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });
const httpUrl = Type.String({ maxLength: 2048, format: 'uri', pattern: '^https?://' });

/** The body of an update: the create body's properties, all optional, at least one given. */
function update<P extends Parameters<typeof Type.Object>[0]>(properties: P) {
  return Type.Partial(Type.Object(properties), { additionalProperties: false, minProperties: 1 });
}

const sourceProperties = {
  name,
  postbackUrl: Type.Optional(Nullable(httpUrl)),
  rateLimitPerMinute: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 1000000 }))),
  duplicateWindowHours: Type.Optional(Type.Integer({ minimum: 0, maximum: 8760 })),
  payout: Type.Optional(PayoutInput),
  clawback: Type.Optional(
    Type.Boolean({
      description: 'false: an approved return leaves the source what it was paid for the sale (default true)',
    }),
  ),
  active: Type.Optional(Type.Boolean()),
};
export const SourceCreate = component('SourceCreate', Type.Object(sourceProperties, { additionalProperties: false }));
export const SourceUpdate = component('SourceUpdate', update(sourceProperties));
export type SourceInput = Static<typeof SourceCreate>;

const cap = (description: string) =>
  Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 100000000, description })));
const budget = (description: string) => Type.Optional(NullableAmountInput(description));

/**
 * A partner's caps (ADR 0008, 0030): leads per period and what it pays per day and month, each counted on its
 * schedule's clock (UTC without a schedule; weeks from Monday); null: no limit. A lead counts from its offer:
 * pending or accepted, in the period it was offered in; a rejection or a dead letter gives its slot back.
 */
export const CapsInput = Type.Object(
  {
    hourly: cap('leads per hour'),
    daily: cap('leads per day'),
    weekly: cap('leads per week (Monday to Sunday)'),
    monthly: cap('leads per calendar month'),
    dailyBudget: budget(
      'the most it pays for leads per day: the sum of its sales’ prices, with leads pending reserving its `price` (else its last sale’s)',
    ),
    monthlyBudget: budget('the most it pays for leads per calendar month, counted as `dailyBudget`'),
  },
  { additionalProperties: false },
);

/** A partner's properties as a body gives them (some are shown as they are in the partner's view). */
export const partnerProperties = {
  name,
  url: httpUrl,
  method: Type.Optional(OneOf(['POST', 'PUT', 'PATCH'])),
  headers: Type.Optional(PartnerHeadersSchema),
  secret: Type.Optional(Nullable(Type.String({ minLength: 16, maxLength: 200 }))),
  fieldMap: Type.Optional(Type.Unsafe<FieldMap | null>({ ...FieldMapSchema, type: ['object', 'null'] })),
  acceptWhen: Type.Optional(Nullable(AcceptWhenSchema)),
  responseMap: Type.Optional(Nullable(ResponseMapSchema)),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 120000 })),
  maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })),
  backoff: Type.Optional(
    Type.Object(
      {
        delayMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 86400000 })),
        maxDelayMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 86400000 })),
      },
      { additionalProperties: false },
    ),
  ),
  caps: Type.Optional(CapsInput),
  schedule: Type.Optional(Nullable(ScheduleSchema)),
  filters: Type.Optional(NullableFilters),
  concurrency: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 1000 }))),
  price: Type.Optional(
    NullableAmountInput('what the partner pays per lead it accepts, unless its answer says (`responseMap.price`)'),
  ),
  conversionPrice: Type.Optional(
    NullableAmountInput('what the partner pays per conversion it reports without an `amount`'),
  ),
  returns: Type.Optional(ReturnsInput),
  statusMap: Type.Optional(StatusMapInput),
  statusPull: Type.Optional(
    Type.Unsafe<StatusPull | null>({
      ...Nullable(StatusPullSchema),
      description: `${(StatusPullSchema as { description?: string }).description} Given again, it replaces the one stored; null: no pulls.`,
    }),
  ),
  ping: Type.Optional(
    Type.Unsafe<Ping | null>({
      ...Nullable(PingSchema),
      description: `${(PingSchema as { description?: string }).description} On an auction route a partner without \`ping\` bids its \`price\`. Given again, it replaces the one stored; null: not pinged.`,
    }),
  ),
  pauseAfterFailures: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })),
  active: Type.Optional(Type.Boolean()),
};
export const PartnerCreate = component(
  'PartnerCreate',
  Type.Object(partnerProperties, { additionalProperties: false }),
);
export const PartnerUpdate = component('PartnerUpdate', update(partnerProperties));
export type PartnerInput = Static<typeof PartnerCreate>;

/** An auction route's deadline and floor (ADR 0032). */
export const AuctionInput = Nullable(
  Type.Object(
    {
      timeoutMs: Type.Optional(
        Type.Integer({
          minimum: 50,
          maximum: 10000,
          description: 'the auction’s deadline: answers later than this are no bids (default 800)',
        }),
      ),
      floor: Type.Optional(AmountInput('bids below this are no bids (default 0)')),
    },
    {
      additionalProperties: false,
      description:
        'For `strategy: "auction"` only: the deadline of its pings and the lowest bid taken; null: the defaults',
    },
  ),
);

const routeProperties = {
  name,
  priority: Type.Integer({ minimum: -1000000, maximum: 1000000 }),
  filters: Type.Optional(NullableFilters),
  partners: Type.Array(
    Type.Object(
      { partnerId: Uuid(), weight: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000000 })) },
      { additionalProperties: false },
    ),
    { minItems: 1, maxItems: 200 },
  ),
  strategy: OneOf(ROUTE_STRATEGIES, {
    description:
      '`priority`: list order; `round_robin`: rotate across leads; `weighted`: random by weight; `auction`: every eligible partner is pinged in parallel and the lead goes to the highest bid (ties: list order)',
  }),
  auction: Type.Optional(AuctionInput),
  maxDeliveries: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  active: Type.Optional(Type.Boolean()),
};
export const RouteCreate = component('RouteCreate', Type.Object(routeProperties, { additionalProperties: false }));
export const RouteUpdate = component('RouteUpdate', update(routeProperties));
export type RouteInput = Static<typeof RouteCreate>;

export const DRY_RUN_DEFAULT_LEADS = 1000;
export const DRY_RUN_MAX_LEADS = 10_000;

const DraftRoute = Type.Object(
  { ...routeProperties, id: Type.Optional(Uuid({ description: 'the stored route this one replaces' })) },
  { additionalProperties: false },
);
/** A route of a draft: a route as `POST /v1/admin/routes` takes it, with the `id` of the stored route it replaces. */
export type DraftRoute = Static<typeof DraftRoute>;

/** `{routes: [...]}` (the whole draft set) or `{route: {...}}` (one route; the others as stored), and `limit`. */
export const DryRunRequest = component(
  'DryRunRequest',
  Type.Object(
    {
      routes: Type.Optional(Type.Array(DraftRoute, { maxItems: 200 })),
      route: Type.Optional(DraftRoute),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: DRY_RUN_MAX_LEADS })),
    },
    { additionalProperties: false },
  ),
);
export type DryRunBody = Static<typeof DryRunRequest>;

/** A schema, for places that take any. */
export type Schema = TSchema;

export const PartnerTestRequest = component(
  'PartnerTestRequest',
  Type.Object({
    lead: Type.Optional(
      Type.Unsafe<Static<typeof LeadSchema>>({
        $ref: '#/components/schemas/Lead',
        description: 'the lead to send; default: a built-in test lead',
      }),
    ),
  }),
);

export const PartnerPause = component(
  'PartnerPause',
  Type.Object(
    {
      reason: Type.Optional(
        Type.String({ minLength: 1, maxLength: 500, description: 'default: "paused by an operator"' }),
      ),
    },
    { additionalProperties: false },
  ),
);

/** The console's sign-in (ADR 0018). */
export const SignIn = component(
  'SignIn',
  Closed({ token: Type.String({ minLength: 1, maxLength: 1000, description: 'the admin token' }) }),
);

// ---------------------------------------------------------------------------
// Money (ADR 0026)

/** `POST /v1/admin/leads/:id/returns`: an operator files a partner's return of a lead it bought. */
export const ReturnFile = component(
  'ReturnFile',
  Closed({
    partnerId: Uuid({ description: 'the partner returning the lead (it must have bought it)' }),
    reason: Type.String({
      minLength: 1,
      maxLength: 500,
      pattern: '\\S',
      description: 'why, in words the source may read',
    }),
  }),
);

/** `POST /v1/admin/returns/:id/reject`. */
export const ReturnReject = component(
  'ReturnReject',
  Closed({ reason: Type.String({ minLength: 1, maxLength: 500, pattern: '\\S', description: 'why it is rejected' }) }),
);

/** `POST /v1/admin/leads/:id/adjustments`: a manual correction, one signed ledger entry. */
export const AdjustmentCreate = component(
  'AdjustmentCreate',
  Closed({
    party: OneOf(['partner', 'source'], {
      description: '`partner`: revenue (what a partner pays); `source`: cost (what the source is paid)',
    }),
    partyId: Uuid({ description: 'the partner (one the lead was offered to) or the lead’s source' }),
    amount: AmountInput('signed: positive adds to the party’s side, negative takes from it; not 0'),
    note: Type.String({ minLength: 1, maxLength: 500, pattern: '\\S', description: 'why' }),
  }),
);
export type AdjustmentBody = Static<typeof AdjustmentCreate>;

/** An operator's erasure of a lead's personal data (ADR 0031): why, kept on the lead's timeline. */
export const PersonalDataErasureRequest = component(
  'PersonalDataErasureRequest',
  Type.Object(
    {
      reason: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 500,
          description:
            'why (e.g. the ticket of the person’s request), kept on the lead’s timeline; never the personal data itself',
        }),
      ),
    },
    { additionalProperties: false },
  ),
);
