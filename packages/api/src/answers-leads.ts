/**
 * The source-facing lead API's contract (README "Posting leads (for sources)"): its limits, the batch body, the
 * answers a source gets for its leads, each party's view of a lead, and the postback a source receives. Closed,
 * as every answer (answers.ts).
 */
import {
  ATTEMPT_OUTCOMES,
  Closed,
  Const,
  DateTime,
  Dict,
  Nullable,
  OneOf,
  POSTBACK_EVENTS,
  Scalar,
  TERMINAL_STATUSES,
  Type,
  Uuid,
  type PostbackBody,
  type Static,
} from '@leadrouter/core';
import { AmountAnswer, CurrencyAnswer } from './amounts.js';
import { FieldErrors } from './answers.js';
import { LeadMoney } from './answers-money.js';
import { LeadStatusSchema, PersonalDataErasedAt } from './answers-operations.js';
import { Lead } from './bodies.js';
import { component, ref } from './components.js';

/** Leads in one batch at most. */
export const MAX_BATCH = 500;
/** The largest batch body taken. */
export const BATCH_BODY_LIMIT = '8mb';
/** An Idempotency-Key's length at most (a batch's is 4 shorter: `#<index>` is added per lead). */
export const MAX_IDEMPOTENCY_KEY = 200;

const BATCH_DESCRIPTION =
  'Each lead is validated on its own: an invalid lead gets a `rejected` result, the others are still accepted.';

/** A batch as the document shows it: 1–500 leads. */
export const LeadBatch = component(
  'LeadBatch',
  Closed(
    { leads: Type.Array(ref(Lead), { minItems: 1, maxItems: MAX_BATCH, description: BATCH_DESCRIPTION }) },
    { title: 'LeadBatch' },
  ),
);
/** A batch as it is validated before its leads: each lead is then validated on its own, with a result of its own. */
export const LeadBatchEnvelope = Closed({ leads: Type.Array(Type.Unknown(), { minItems: 1, maxItems: MAX_BATCH }) });

export const LeadAccepted = component(
  'LeadAccepted',
  Closed(
    { status: Const('accepted'), id: Uuid() },
    { description: 'The lead is stored in PostgreSQL and will be routed.' },
  ),
);
/** The source-side reason of each final status but `delivered`, in the source's own terms (README "What each party sees"). */
export const OUTCOME_REASONS = {
  unsold: 'unsold',
  unmatched: 'unmatched',
  dead_lettered: 'delivery_failed',
} as const;
/** Longest `Prefer: wait` honoured, in seconds (ADR 0033). */
export const MAX_WAIT_SECONDS = 30;
export const LeadOutcome = component(
  'LeadOutcome',
  Closed(
    {
      status: OneOf(TERMINAL_STATUSES, {
        description:
          'where the lead ended: `delivered` (a buyer accepted it; also when feedback has moved it on since), `unsold` (every eligible buyer refused it), `unmatched` (no buyer could take it), `dead_lettered` (its delivery failed; an operator may retry it)',
      }),
      id: Uuid(),
      payout: Type.Optional(
        Type.Number({
          description:
            'what you earn on the lead so far, in CURRENCY (your own ledger lines); absent while you are paid nothing for it (e.g. a cpa payout before a conversion)',
        }),
      ),
      reason: Type.Optional(
        OneOf(Object.values(OUTCOME_REASONS), {
          description: 'why it was not delivered, in your terms (never a buyer’s name, answer or price)',
        }),
      ),
    },
    {
      description: `The lead is stored, and its outcome was reached within the \`Prefer: wait=N\` you sent (at most ${MAX_WAIT_SECONDS} s).`,
    },
  ),
);
/** What a source is answered to a ping (README "Ping then post (for sources)"): never a buyer's name or price. */
export const PingBid = component(
  'PingBid',
  Closed(
    {
      status: Const('bid'),
      pingId: Uuid({ description: 'send it as `pingId` with the full lead to `POST /v1/leads` before `expiresAt`' }),
      bid: Type.Number({
        description:
          'what you will be paid, in CURRENCY, if you post the lead: your payout on the best bid (cpl: your amount; revshare: your share of the bid; cpa: what you earn when it converts)',
      }),
      expiresAt: DateTime({ description: 'post the lead before this time' }),
    },
    { description: 'A buyer bid on the lead.' },
  ),
);
export const PingNoBid = component(
  'PingNoBid',
  Closed(
    {
      status: Const('no_bid'),
      pingId: Uuid(),
    },
    {
      description:
        'No buyer bid within the auction’s deadline (or the lead matches no auction route): a post against this ping is refused.',
    },
  ),
);

const schemaPath = (name: string) => `#/components/schemas/${name}`;

export type PingAnswer = Static<typeof PingBid> | Static<typeof PingNoBid>;
export const PingAnswer = Type.Unsafe<PingAnswer>({
  oneOf: [ref(PingBid), ref(PingNoBid)],
  discriminator: {
    propertyName: 'status',
    mapping: { bid: schemaPath('PingBid'), no_bid: schemaPath('PingNoBid') },
  },
});

export const LeadDuplicate = component(
  'LeadDuplicate',
  Closed(
    {
      status: Const('duplicate'),
      id: Type.Optional(
        Uuid({
          description:
            'the existing lead, when it is one of yours; absent when another source sent it (ids are only shown to their own source)',
        }),
      ),
    },
    { description: 'The same phone or email was received within the source’s `duplicateWindowHours`.' },
  ),
);
export const LeadRejected = component('LeadRejected', Closed({ status: Const('rejected'), errors: FieldErrors }));
export const LeadFailed = component(
  'LeadFailed',
  Closed(
    { status: Const('error'), errors: FieldErrors },
    { description: 'The lead could not be recorded right now; send it again.' },
  ),
);

/** One lead's result in a batch. */
export type BatchResult =
  | Static<typeof LeadAccepted>
  | Static<typeof LeadOutcome>
  | Static<typeof LeadDuplicate>
  | Static<typeof LeadRejected>
  | Static<typeof LeadFailed>;
export const BatchResults = component(
  'BatchResults',
  Closed({
    results: Type.Array(
      Type.Unsafe<BatchResult>({
        oneOf: [ref(LeadAccepted), ref(LeadOutcome), ref(LeadDuplicate), ref(LeadRejected), ref(LeadFailed)],
        discriminator: {
          propertyName: 'status',
          mapping: {
            accepted: schemaPath('LeadAccepted'),
            ...Object.fromEntries(TERMINAL_STATUSES.map((status) => [status, schemaPath('LeadOutcome')])),
            duplicate: schemaPath('LeadDuplicate'),
            rejected: schemaPath('LeadRejected'),
            error: schemaPath('LeadFailed'),
          },
        },
      }),
      { description: 'one result per lead, in request order' },
    ),
  }),
);

const nullableString = Nullable(Type.String());

/** The lead's own data, as it was posted (phone and email partly masked for its source); null once erased. */
const leadData = (masked: boolean) =>
  Closed({
    name: Nullable(Type.String({ description: 'null once erased' })),
    phone: Nullable(
      Type.String({
        description: masked ? 'E.164, partly masked (`+1415*****00`); null once erased' : 'E.164; null once erased',
      }),
    ),
    email: Nullable(
      Type.String({ description: masked ? 'lower-cased, partly masked (`j***@example.com`)' : 'lower-cased' }),
    ),
    geo: nullableString,
    source: Nullable(Type.String({ description: 'the lead’s own `source` field (traffic channel)' })),
    fields: Dict(Scalar()),
  });

const events = <S extends Parameters<typeof Closed>[0]>(event: S) =>
  Type.Array(Closed(event), {
    description:
      'status changes, oldest first; empty once the lead’s month is past the installation’s LEAD_HISTORY_RETENTION_MONTHS (the status and money stay)',
  });

/**
 * A lead as its source sees it (README "What each party sees"): its data, its status and when each status was
 * reached, and what it earns on the lead — never which partners were offered it, what they answered, what they
 * paid, or which route decided (docs/decisions/0015-what-each-party-sees.md, 0026).
 */
export const LeadSourceView = component(
  'LeadSourceView',
  Closed(
    {
      id: Uuid(),
      status: LeadStatusSchema,
      reason: Type.Optional(
        Type.String({
          description:
            'why a `returned` lead came back, in your terms: the reason its buyer gave for the return (several returns: each reason once, separated by `; `), the same `reason` its `returned` postback carried. Absent for any other status (the status is its own reason: `unsold`, `unmatched`, …). Never who returned it or what it paid',
        }),
      ),
      createdAt: DateTime(),
      sourceId: Uuid({ description: 'your source’s id' }),
      personalDataErasedAt: PersonalDataErasedAt,
      lead: leadData(true),
      events: events({ at: DateTime(), status: LeadStatusSchema }),
      payout: AmountAnswer('what you earn on the lead so far: your payouts, less what returns and reversals took back'),
      currency: CurrencyAnswer('the ISO 4217 code of `payout`: the installation’s `CURRENCY`'),
    },
    {
      description:
        'A lead as its source sees it: its data (phone and email partly masked), its status and when each status was reached, why it was returned (the return’s reason), and what you earn on it. Never a partner’s name, a partner’s answer, a price or a route.',
    },
  ),
);

/** Explainable routing: every partner the route named, and what became of it. */
const routing = Closed({
  route: Nullable(Type.String({ description: 'the route that matched (null: none did)' })),
  strategy: nullableString,
  partners: Type.Array(
    Closed({
      partner: Type.String({ description: 'partner name' }),
      decision: Type.String({
        description:
          '`skipped` (with the `reason`: inactive, paused, filters, schedule, cap), `offered`, `accepted`, `rejected`, `dead_lettered`, or `not_offered` (the lead was placed before its turn)',
      }),
      reason: Type.Optional(Type.String()),
      at: Type.Optional(DateTime()),
    }),
    { description: 'every partner the route named, in the order it was considered, and what became of it' },
  ),
  reason: Type.Optional(Type.String({ description: 'why no partner could be offered the lead, when none could' })),
  filterErrors: Type.Optional(
    Type.Array(Type.String(), {
      description:
        'routes passed over because their filters could not be evaluated (e.g. a stored `regex` pattern that does not compile), each with the reason; such filters match no lead',
    }),
  ),
  pings: Type.Optional(
    Type.Array(
      Closed({
        partner: Type.String({ description: 'partner name' }),
        outcome: OneOf(['bid', 'no_bid', 'timeout', 'error']),
        bid: Type.Optional(AmountAnswer('its bid (its fixed `price` when it has no `ping`)')),
        reference: Type.Optional(Type.String({ description: 'its reference for the ping, sent with the post' })),
        reason: Type.Optional(Type.String({ description: 'why it is no bid or an error' })),
        pinged: Type.Boolean({ description: 'false: it has no `ping` and bid its fixed price' }),
        durationMs: Type.Integer({ minimum: 0 }),
      }),
      {
        description:
          'an auction route’s pings, in the route’s order: who bid what; the partners are then offered the lead highest bid first',
      },
    ),
  ),
});

/** A lead as the admin token sees it: everything, unmasked, with its routing and every delivery attempt. */
export const LeadView = component(
  'LeadView',
  Closed(
    {
      id: Uuid(),
      status: LeadStatusSchema,
      createdAt: DateTime(),
      sourceId: Uuid(),
      personalDataErasedAt: PersonalDataErasedAt,
      lead: leadData(false),
      events: events({ at: DateTime(), status: LeadStatusSchema, partner: Type.Optional(Type.String()) }),
      routing: Type.Union([routing, Type.Null()], {
        description: 'explainable routing; null until the lead is routed',
      }),
      deliveries: Type.Array(
        Closed({
          partner: Type.String({ description: 'partner name' }),
          attempt: Type.Integer({ minimum: 1 }),
          outcome: OneOf(ATTEMPT_OUTCOMES),
          httpStatus: Nullable(Type.Integer({ description: 'null when no answer came (timeout, connection error)' })),
          durationMs: Type.Integer({ minimum: 0 }),
          error: nullableString,
          reference: Type.Optional(
            Type.String({
              description:
                'on the accepted attempt: the partner’s own reference for the lead, read from its answer (`responseMap.reference`); the partner names the lead by it in its feedback. Absent when its answer gave none',
            }),
          ),
          at: DateTime(),
        }),
        {
          description:
            'every delivery attempt to every partner, oldest first; empty once the lead’s month is past the installation’s LEAD_HISTORY_RETENTION_MONTHS',
        },
      ),
      money: ref(LeadMoney),
    },
    {
      description:
        'A lead as the admin token sees it: everything, unmasked — partners, the routing decision, every delivery attempt with the partner’s answer, and its money.',
    },
  ),
);

/** What a source's `postbackUrl` receives (core's `postbackBody`). */
export const Postback = component(
  'Postback',
  Closed(
    {
      id: Uuid({ description: 'the lead id' }),
      status: OneOf([...TERMINAL_STATUSES, ...POSTBACK_EVENTS], {
        description: 'the status the lead reached, or what its buyer reported (`converted`, `returned`, `reversed`)',
      }),
      payout: Type.Optional(
        Type.Number({
          description:
            'what you earn with it, in CURRENCY (negative when a return or reversal takes your payout back); absent when you are paid nothing for the lead',
        }),
      ),
      reason: Type.Optional(Type.String({ description: 'a reason in the source’s terms (a return’s)' })),
      at: DateTime({ description: 'when the lead reached the status, or when the event happened' }),
    } satisfies Record<keyof PostbackBody, unknown>,
    {
      description:
        'What a source’s `postbackUrl` receives when its lead reaches a final status, or its buyer reports a conversion, a return or a reversal. Never a partner’s name, answer or price.',
    },
  ),
);
