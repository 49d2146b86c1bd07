/**
 * The shapes of routing rules that routes and partners share, and the routing and delivery packages read:
 * filters, schedules, a partner's headers, field map, acceptance rule and response map, each a TypeBox schema
 * (schema.ts) with its type (what JSON Schema cannot say about a partner's headers is headers.ts's). The request
 * bodies that carry them are @leadrouter/api's; packages/db stores them as they are.
 */
import { REGEX_MAX_LENGTH, REGEX_MAX_PROGRAM } from './regex.js';
import { Dict, Nullable, OneOf, Scalar, Type, Uuid, type Static } from './schema.js';

const VALUE_DESCRIPTION = `What the field is compared with: a list for \`in\` and \`not_in\`, \`false\` for \`exists\` to require the field's absence. For \`regex\`: an RE2 pattern (https://github.com/google/re2/wiki/Syntax) of at most ${REGEX_MAX_LENGTH} characters, found anywhere in the value unless anchored with \`^\` and \`$\`. It matches in time linear in the value: RE2 has no backreferences (\`\\1\`) and no lookahead or lookbehind (\`(?=\`, \`(?!\`, \`(?<=\`, \`(?<!\`); inline flags work, e.g. \`(?i)\` for case-insensitive. A pattern that does not compile, or compiles to more than ${REGEX_MAX_PROGRAM} RE2 instructions, is a \`422\`.`;

export const FILTER_OPS = ['eq', 'ne', 'in', 'not_in', 'gt', 'gte', 'lt', 'lte', 'exists', 'regex'] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

const scalar = Scalar({ maxLength: 1000 });
const shortString = Type.String({ maxLength: 200 });

export const FieldConditionSchema = Type.Object(
  {
    field: Type.String({ minLength: 1, maxLength: 100, pattern: '^(name|phone|email|geo|source|fields\\.[^.]+)$' }),
    op: OneOf(FILTER_OPS),
    value: Type.Optional(
      Type.Unsafe<string | number | boolean | (string | number | boolean)[]>({
        anyOf: [scalar, Type.Array(scalar, { maxItems: 1000 })],
        description: VALUE_DESCRIPTION,
      }),
    ),
  },
  {
    additionalProperties: false,
    // A regex's value is its pattern (a string), compiled when saved (ADR 0013).
    if: { required: ['op'], properties: { op: { const: 'regex' } } },
    then: { required: ['value'], properties: { value: { type: 'string' } } },
  },
);
export type FieldCondition = Static<typeof FieldConditionSchema>;

export const FiltersSchema = Type.Object(
  {
    sourceIds: Type.Optional(Type.Array(Uuid(), { maxItems: 1000, description: 'the posting source (affiliate) ids' })),
    geo: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Z]{2}$' }), { maxItems: 300 })),
    source: Type.Optional(Type.Array(shortString, { maxItems: 1000, description: 'the lead’s own `source` field' })),
    fields: Type.Optional(Type.Array(FieldConditionSchema, { maxItems: 50 })),
  },
  { additionalProperties: false, description: 'All given parts must match.' },
);
export type Filters = Static<typeof FiltersSchema>;

/** Filters where a rule may have none: an object or null. */
export const NullableFilters = Nullable(FiltersSchema);

const timeWindow = Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d-([01]\\d|2[0-4]):[0-5]\\d$' });
const dayWindows = Type.Optional(Type.Array(timeWindow, { maxItems: 24 }));

export const ScheduleSchema = Type.Object(
  {
    timezone: Type.String({ minLength: 1, maxLength: 64 }),
    days: Type.Object(
      {
        mon: dayWindows,
        tue: dayWindows,
        wed: dayWindows,
        thu: dayWindows,
        fri: dayWindows,
        sat: dayWindows,
        sun: dayWindows,
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type Schedule = Static<typeof ScheduleSchema>;

/** A partner's headers: what JSON Schema can say (partnerHeaderProblems says the rest). */
export const PartnerHeadersSchema = Dict(Type.String({ maxLength: 4096 }), {
  maxProperties: 50,
  description:
    'Sent with every delivery. Values are printable ASCII (no control characters: no CR, LF or tab). Names are unique regardless of case and may not be the ones leadrouter or the HTTP client sets: `Host`, `Content-Length`, `Transfer-Encoding`, `Connection`, `Keep-Alive`, `Proxy-Connection`, `TE`, `Trailer`, `Upgrade`, `Expect`, `X-Lead-Id`, `Idempotency-Key`, `webhook-id`, `webhook-timestamp`, `webhook-signature`.',
  propertyNames: { type: 'string', minLength: 1, maxLength: 100, pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" },
});

const jsonPath = Type.String({ minLength: 1, maxLength: 200 });

/**
 * How a partner's request body is built from the lead: its field name → the lead's (`fields.zip` for a custom
 * one; `ping.reference`: the partner's reference from its ping, on the post of an auction it won, ADR 0032).
 */
export const FieldMapSchema = Type.Unsafe<Record<string, string>>({
  type: 'object',
  maxProperties: 100,
  propertyNames: { type: 'string', minLength: 1, maxLength: 100 },
  additionalProperties: Type.String({ pattern: '^(id|name|phone|email|geo|source|ping\\.reference|fields\\.[^.]+)$' }),
});
export type FieldMap = Static<typeof FieldMapSchema>;

/** When a partner's 2xx answer means it took the lead: the value at a JSON path of its answer. */
export const AcceptWhenSchema = Type.Object(
  { path: jsonPath, equals: Scalar({ maxLength: 1000 }) },
  { additionalProperties: false },
);
export type AcceptWhen = Static<typeof AcceptWhenSchema>;

/** What a partner's answer tells, by JSON path. */
export const ResponseMapSchema = Type.Object(
  { price: Type.Optional(jsonPath), reason: Type.Optional(jsonPath), reference: Type.Optional(jsonPath) },
  {
    additionalProperties: false,
    description: 'JSON paths in the partner’s answer: the price it paid, its rejection reason, its reference',
  },
);
export type ResponseMap = Static<typeof ResponseMapSchema>;

/** An IANA timezone name this runtime knows (`America/New_York`, `UTC`). */
export function isValidTimezone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
