/**
 * JSON Schemas of the admin API's request bodies. They validate requests and
 * feed the OpenAPI document, so the two cannot disagree.
 */
import type { FieldError } from './errors.js';
import { REGEX_MAX_LENGTH, REGEX_MAX_PROGRAM } from './regex.js';
import { ROUTE_STRATEGIES, type RouteStrategy } from './states.js';

const name = {
  type: 'string',
  minLength: 1,
  maxLength: 200,
  pattern: '\\S',
} as const;
const httpUrl = {
  type: 'string',
  maxLength: 2048,
  format: 'uri',
  pattern: '^https?://',
} as const;
const uuid = { type: 'string', format: 'uuid' } as const;
const shortString = { type: 'string', maxLength: 200 } as const;

const VALUE_DESCRIPTION = `What the field is compared with: a list for \`in\` and \`not_in\`, \`false\` for \`exists\` to require the field's absence. For \`regex\`: an RE2 pattern (https://github.com/google/re2/wiki/Syntax) of at most ${REGEX_MAX_LENGTH} characters, found anywhere in the value unless anchored with \`^\` and \`$\`. It matches in time linear in the value: RE2 has no backreferences (\`\\1\`) and no lookahead or lookbehind (\`(?=\`, \`(?!\`, \`(?<=\`, \`(?<!\`); inline flags work, e.g. \`(?i)\` for case-insensitive. A pattern that does not compile, or compiles to more than ${REGEX_MAX_PROGRAM} RE2 instructions, is a \`422\`.`;

export const FILTER_OPS = ['eq', 'ne', 'in', 'not_in', 'gt', 'gte', 'lt', 'lte', 'exists', 'regex'] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

/** The schema, also accepting null (as an OpenAPI 3.1 type union, which gives one error per field, unlike anyOf). */
function nullable<S extends { type: string }>(schema: S): Omit<S, 'type'> & { type: [S['type'], 'null'] } {
  return { ...schema, type: [schema.type, 'null'] };
}

const scalar = {
  type: ['string', 'number', 'boolean'],
  maxLength: 1000,
} as const;

export const filtersSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'All given parts must match.',
  properties: {
    sourceIds: {
      type: 'array',
      maxItems: 1000,
      items: uuid,
      description: 'the posting source (affiliate) ids',
    },
    geo: {
      type: 'array',
      maxItems: 300,
      items: { type: 'string', pattern: '^[A-Z]{2}$' },
    },
    source: {
      type: 'array',
      maxItems: 1000,
      items: shortString,
      description: 'the lead’s own `source` field',
    },
    fields: {
      type: 'array',
      maxItems: 50,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['field', 'op'],
        properties: {
          field: {
            type: 'string',
            minLength: 1,
            maxLength: 100,
            pattern: '^(name|phone|email|geo|source|fields\\.[^.]+)$',
          },
          op: { enum: FILTER_OPS },
          value: {
            anyOf: [scalar, { type: 'array', maxItems: 1000, items: scalar }],
            description: VALUE_DESCRIPTION,
          },
        },
        // A regex's value is its pattern (a string), compiled when saved (ADR 0013).
        if: { required: ['op'], properties: { op: { const: 'regex' } } },
        then: { required: ['value'], properties: { value: { type: 'string' } } },
      },
    },
  },
} as const;

export const sourceCreateSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name,
    postbackUrl: nullable(httpUrl),
    rateLimitPerMinute: nullable({
      type: 'integer',
      minimum: 1,
      maximum: 1000000,
    }),
    duplicateWindowHours: { type: 'integer', minimum: 0, maximum: 8760 },
    active: { type: 'boolean' },
  },
} as const;

export const sourceUpdateSchema = {
  ...sourceCreateSchema,
  required: [],
  minProperties: 1,
} as const;

const timeWindow = {
  type: 'string',
  pattern: '^([01]\\d|2[0-3]):[0-5]\\d-([01]\\d|2[0-4]):[0-5]\\d$',
} as const;
const dayWindows = { type: 'array', maxItems: 24, items: timeWindow } as const;

export const partnerCreateSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'url'],
  properties: {
    name,
    url: httpUrl,
    method: { enum: ['POST', 'PUT', 'PATCH'] },
    headers: {
      type: 'object',
      maxProperties: 50,
      description:
        'Sent with every delivery. Values are printable ASCII (no control characters: no CR, LF or tab). Names are unique regardless of case and may not be the ones leadrouter or the HTTP client sets: `Host`, `Content-Length`, `Transfer-Encoding`, `Connection`, `Keep-Alive`, `Proxy-Connection`, `TE`, `Trailer`, `Upgrade`, `Expect`, `X-Lead-Id`, `Idempotency-Key`, `webhook-id`, `webhook-timestamp`, `webhook-signature`.',
      propertyNames: {
        type: 'string',
        minLength: 1,
        maxLength: 100,
        pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$",
      },
      additionalProperties: { type: 'string', maxLength: 4096 },
    },
    secret: nullable({ type: 'string', minLength: 16, maxLength: 200 }),
    fieldMap: nullable({
      type: 'object',
      maxProperties: 100,
      propertyNames: { type: 'string', minLength: 1, maxLength: 100 },
      additionalProperties: {
        type: 'string',
        pattern: '^(id|name|phone|email|geo|source|fields\\.[^.]+)$',
      },
    }),
    acceptWhen: nullable({
      type: 'object',
      additionalProperties: false,
      required: ['path', 'equals'],
      properties: {
        path: { type: 'string', minLength: 1, maxLength: 200 },
        equals: scalar,
      },
    }),
    responseMap: nullable({
      type: 'object',
      additionalProperties: false,
      description: 'JSON paths in the partner’s answer: the price it paid, its rejection reason, its reference',
      properties: {
        price: { type: 'string', minLength: 1, maxLength: 200 },
        reason: { type: 'string', minLength: 1, maxLength: 200 },
        reference: { type: 'string', minLength: 1, maxLength: 200 },
      },
    }),
    timeoutMs: { type: 'integer', minimum: 100, maximum: 120000 },
    maxAttempts: { type: 'integer', minimum: 1, maximum: 50 },
    backoff: {
      type: 'object',
      additionalProperties: false,
      properties: {
        delayMs: { type: 'integer', minimum: 1, maximum: 86400000 },
        maxDelayMs: { type: 'integer', minimum: 1, maximum: 86400000 },
      },
    },
    caps: {
      type: 'object',
      additionalProperties: false,
      properties: {
        hourly: nullable({ type: 'integer', minimum: 0, maximum: 100000000 }),
        daily: nullable({ type: 'integer', minimum: 0, maximum: 100000000 }),
      },
    },
    schedule: nullable({
      type: 'object',
      additionalProperties: false,
      required: ['timezone', 'days'],
      properties: {
        timezone: { type: 'string', minLength: 1, maxLength: 64 },
        days: {
          type: 'object',
          additionalProperties: false,
          properties: {
            mon: dayWindows,
            tue: dayWindows,
            wed: dayWindows,
            thu: dayWindows,
            fri: dayWindows,
            sat: dayWindows,
            sun: dayWindows,
          },
        },
      },
    }),
    filters: nullable(filtersSchema),
    concurrency: nullable({ type: 'integer', minimum: 1, maximum: 1000 }),
    price: nullable({ type: 'number', minimum: 0, maximum: 1000000 }),
    pauseAfterFailures: { type: 'integer', minimum: 1, maximum: 100000 },
    active: { type: 'boolean' },
  },
} as const;

export const partnerUpdateSchema = {
  ...partnerCreateSchema,
  required: [],
  minProperties: 1,
} as const;

/**
 * Headers a partner may not set, lower-cased, with why. Framing and
 * connection headers are the HTTP client's: a `Content-Length` shorter than
 * the body would cut it in two and smuggle the rest onto a kept-alive
 * connection as a second request. The signing headers come from the
 * partner's `secret`. `X-Lead-Id` and `Idempotency-Key` are leadrouter's
 * own, the same on every retry (a partner value would be silently replaced).
 */
export const RESERVED_HEADERS: ReadonlyMap<string, string> = new Map([
  ...[
    'host',
    'content-length',
    'transfer-encoding',
    'connection',
    'keep-alive',
    'proxy-connection',
    'te',
    'trailer',
    'upgrade',
    'expect',
  ].map((name) => [name, 'is set by the HTTP client for each request; a partner may not set it'] as const),
  ...['webhook-id', 'webhook-timestamp', 'webhook-signature'].map(
    (name) => [name, 'is a signing header, sent when the partner has a `secret`; set the secret instead'] as const,
  ),
  ...['x-lead-id', 'idempotency-key'].map(
    (name) =>
      [name, 'is set by leadrouter on every delivery (the same on every retry); a partner may not set it'] as const,
  ),
]);

/** Printable ASCII: what an HTTP field value can carry unambiguously (RFC 9110 §5.5), without control characters. */
const HEADER_VALUE = /^[\x20-\x7E]*$/;

/**
 * What JSON Schema cannot say about partner headers, with one error per
 * header: a reserved name (in any case), a name given twice in different
 * cases (HTTP names are case-insensitive: only one would be sent), a value
 * with control characters — a CR or LF would make every delivery fail — or
 * characters beyond ASCII. Anything that is not an object of strings is left
 * to the schema.
 */
export function partnerHeaderProblems(headers: unknown, pointer = '/headers'): FieldError[] {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) return [];
  const errors: FieldError[] = [];
  const seen = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    const field = `${pointer}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    const lower = name.toLowerCase();
    const reserved = RESERVED_HEADERS.get(lower);
    if (reserved) errors.push({ field, message: reserved });
    const first = seen.get(lower);
    if (first !== undefined)
      errors.push({ field, message: `names the same header as ${first} (header names are case-insensitive)` });
    else seen.set(lower, name);
    if (typeof value === 'string' && !HEADER_VALUE.test(value))
      errors.push({
        field,
        message: 'must be printable ASCII: no control characters (CR, LF, tab, NUL…) and nothing beyond ASCII',
      });
  }
  return errors;
}

export const routeCreateSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'priority', 'partners', 'strategy'],
  properties: {
    name,
    priority: { type: 'integer', minimum: -1000000, maximum: 1000000 },
    filters: nullable(filtersSchema),
    partners: {
      type: 'array',
      minItems: 1,
      maxItems: 200,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['partnerId'],
        properties: {
          partnerId: uuid,
          weight: { type: 'integer', minimum: 1, maximum: 1000000 },
        },
      },
    },
    strategy: { enum: ROUTE_STRATEGIES },
    maxDeliveries: { type: 'integer', minimum: 1, maximum: 100 },
    active: { type: 'boolean' },
  },
} as const;

export const routeUpdateSchema = {
  ...routeCreateSchema,
  required: [],
  minProperties: 1,
} as const;

export interface FieldCondition {
  field: string;
  op: FilterOp;
  value?: string | number | boolean | (string | number | boolean)[];
}

export interface Filters {
  sourceIds?: string[];
  geo?: string[];
  source?: string[];
  fields?: FieldCondition[];
}

export interface SourceInput {
  name: string;
  postbackUrl?: string | null;
  rateLimitPerMinute?: number | null;
  duplicateWindowHours?: number;
  active?: boolean;
}

export interface Schedule {
  timezone: string;
  days: Partial<Record<'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun', string[]>>;
}

export interface PartnerInput {
  name: string;
  url: string;
  method?: 'POST' | 'PUT' | 'PATCH';
  headers?: Record<string, string>;
  secret?: string | null;
  fieldMap?: Record<string, string> | null;
  acceptWhen?: { path: string; equals: string | number | boolean } | null;
  responseMap?: { price?: string; reason?: string; reference?: string } | null;
  timeoutMs?: number;
  maxAttempts?: number;
  backoff?: { delayMs?: number; maxDelayMs?: number };
  caps?: { hourly?: number | null; daily?: number | null };
  schedule?: Schedule | null;
  filters?: Filters | null;
  concurrency?: number | null;
  price?: number | null;
  pauseAfterFailures?: number;
  active?: boolean;
}

export interface RouteInput {
  name: string;
  priority: number;
  filters?: Filters | null;
  partners: { partnerId: string; weight?: number }[];
  strategy: RouteStrategy;
  maxDeliveries?: number;
  active?: boolean;
}

/** An IANA timezone name this runtime knows (`America/New_York`, `UTC`). */
export function isValidTimezone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
