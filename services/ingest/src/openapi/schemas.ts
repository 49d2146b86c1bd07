import { isDeepStrictEqual } from 'node:util';
import { FiltersSchema as filtersSchema, LEAD_STATUSES, TERMINAL_STATUSES, type PostbackBody } from '@leadrouter/core';
import type { DeliveryAttempt } from '@leadrouter/db';
import type { LeadView, SourceLeadView } from '../leads/show.js';
import { MAX_BATCH } from '../leads/router.js';

/**
 * The JSON Schemas of the OpenAPI document (its `components.schemas`).
 *
 * Request bodies are the very schemas that validate requests (from
 * @leadrouter/core), copied. Responses are described here, next to nothing
 * else: they are closed (`additionalProperties: false`, every property the
 * view always writes is required), and test/e2e/openapi.test.ts validates real
 * answers against them, so a field added to a view without being documented
 * fails a test. The `satisfies` clauses below do the same for the views' keys
 * at compile time.
 */

export type JsonSchema = { [keyword: string]: unknown };

export const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const orNull = (schema: JsonSchema): JsonSchema => ({ anyOf: [schema, { type: 'null' }] });
const dateTime = { type: 'string', format: 'date-time' } as const;
const uuid = { type: 'string', format: 'uuid' } as const;
const nullableString = { type: ['string', 'null'] } as const;
const nullableInteger = { type: ['integer', 'null'] } as const;

/** What core's `nullable(filtersSchema)` is; in the document it refers to the one `Filters` schema instead. */
const NULLABLE_FILTERS = { ...filtersSchema, type: ['object', 'null'] };

/**
 * A request schema of @leadrouter/core as the document shows it: a deep copy
 * (the validators' objects are never shared or changed), without Ajv's
 * `$id`, and with every embedded copy of the filters schema replaced by a
 * reference to `Filters` (the same schema, written once).
 */
export function fromCore(schema: object): JsonSchema {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node !== 'object' || node === null) return node;
    if (isDeepStrictEqual(node, NULLABLE_FILTERS)) return orNull(ref('Filters'));
    const out: JsonSchema = {};
    for (const [k, v] of Object.entries(node)) if (k !== '$id') out[k] = walk(v);
    return out;
  };
  return walk(structuredClone(schema)) as JsonSchema;
}

/** A closed object schema: no other properties, and all of `properties` required unless listed as optional. */
export function closed(
  properties: Record<string, unknown>,
  opts: { optional?: string[]; description?: string; title?: string } = {},
): JsonSchema {
  return {
    type: 'object',
    ...(opts.title ? { title: opts.title } : {}),
    ...(opts.description ? { description: opts.description } : {}),
    additionalProperties: false,
    required: Object.keys(properties).filter((k) => !opts.optional?.includes(k)),
    properties,
  };
}

/** Every outcome a delivery attempt can record (checked against the database's enum at compile time). */
export const ATTEMPT_OUTCOMES = [
  'accepted',
  'rejected',
  'retry',
  'failed',
] as const satisfies readonly DeliveryAttempt['outcome'][];
const _allOutcomes: [Exclude<DeliveryAttempt['outcome'], (typeof ATTEMPT_OUTCOMES)[number]>] extends [never]
  ? true
  : false = true;
void _allOutcomes;

const leadStatus = {
  enum: LEAD_STATUSES,
  description:
    '`queued` → `routing` → `delivered` (a partner accepted), `unsold` (every eligible partner rejected it), `unmatched` (no rule or no eligible partner) or `dead_lettered` (no partner accepted and a delivery exhausted its retries).',
};

const leadData = (masked: boolean) =>
  closed({
    name: { type: 'string' },
    phone: { type: 'string', description: masked ? 'E.164, partly masked (`+1415*****00`)' : 'E.164' },
    email: {
      ...nullableString,
      description: masked ? 'lower-cased, partly masked (`j***@example.com`)' : 'lower-cased',
    },
    geo: nullableString,
    source: { ...nullableString, description: 'the lead’s own `source` field (traffic channel)' },
    fields: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
  } satisfies Record<keyof LeadView['lead'], unknown>);

const sourceLeadViewProperties = {
  id: uuid,
  status: leadStatus,
  createdAt: dateTime,
  sourceId: { ...uuid, description: 'your source’s id' },
  lead: leadData(true),
  events: {
    type: 'array',
    description: 'status changes, oldest first',
    items: closed({ at: dateTime, status: leadStatus } satisfies Record<
      keyof SourceLeadView['events'][number],
      unknown
    >),
  },
} satisfies Record<keyof SourceLeadView, unknown>;

const leadViewProperties = {
  id: uuid,
  status: leadStatus,
  createdAt: dateTime,
  sourceId: uuid,
  lead: leadData(false),
  events: {
    type: 'array',
    description: 'status changes, oldest first',
    items: closed({ at: dateTime, status: leadStatus, partner: { type: 'string' } }, { optional: ['partner'] }),
  },
  routing: {
    ...orNull(
      closed(
        {
          route: { ...nullableString, description: 'the route that matched (null: none did)' },
          strategy: nullableString,
          partners: {
            type: 'array',
            description: 'every partner the route named, in the order it was considered, and what became of it',
            items: closed(
              {
                partner: { type: 'string', description: 'partner name' },
                decision: {
                  type: 'string',
                  description:
                    '`skipped` (with the `reason`: inactive, paused, filters, schedule, cap), `offered`, `accepted`, `rejected`, `dead_lettered`, or `not_offered` (the lead was placed before its turn)',
                },
                reason: { type: 'string' },
                at: dateTime,
              } satisfies Record<keyof NonNullable<LeadView['routing']>['partners'][number], unknown>,
              { optional: ['reason', 'at'] },
            ),
          },
          reason: { type: 'string', description: 'why no partner could be offered the lead, when none could' },
          filterErrors: {
            type: 'array',
            items: { type: 'string' },
            description:
              'routes passed over because their filters could not be evaluated (e.g. a stored `regex` pattern that does not compile), each with the reason; such filters match no lead',
          },
        } satisfies Record<keyof NonNullable<LeadView['routing']>, unknown>,
        { optional: ['reason', 'filterErrors'] },
      ),
    ),
    description: 'explainable routing; null until the lead is routed',
  },
  deliveries: {
    type: 'array',
    description: 'every delivery attempt to every partner, oldest first',
    items: closed({
      partner: { type: 'string', description: 'partner name' },
      attempt: { type: 'integer', minimum: 1 },
      outcome: { enum: ATTEMPT_OUTCOMES },
      httpStatus: { ...nullableInteger, description: 'null when no answer came (timeout, connection error)' },
      durationMs: { type: 'integer', minimum: 0 },
      error: nullableString,
      at: dateTime,
    } satisfies Record<keyof LeadView['deliveries'][number], unknown>),
  },
} satisfies Record<keyof LeadView, unknown>;

const fieldErrors = {
  type: 'array',
  items: closed(
    {
      field: { type: 'string', description: 'JSON pointer into the body (`/phone`), or a header or parameter name' },
      message: { type: 'string' },
    },
    { optional: ['field'] },
  ),
};

/** `components.schemas` of the document. */
export function componentSchemas(): Record<string, JsonSchema> {
  return {
    LeadBatch: closed(
      {
        leads: {
          type: 'array',
          minItems: 1,
          maxItems: MAX_BATCH,
          items: ref('Lead'),
          description:
            'Each lead is validated on its own: an invalid lead gets a `rejected` result, the others are still accepted.',
        },
      },
      { title: 'LeadBatch' },
    ),
    LeadAccepted: closed(
      { status: { const: 'accepted' }, id: uuid },
      { description: 'The lead is stored in PostgreSQL and will be routed.' },
    ),
    LeadDuplicate: closed(
      {
        status: { const: 'duplicate' },
        id: {
          ...uuid,
          description:
            'the existing lead, when it is one of yours; absent when another source sent it (ids are only shown to their own source)',
        },
      },
      {
        optional: ['id'],
        description: 'The same phone or email was received within the source’s `duplicateWindowHours`.',
      },
    ),
    LeadRejected: closed({ status: { const: 'rejected' }, errors: fieldErrors }),
    LeadFailed: closed(
      { status: { const: 'error' }, errors: fieldErrors },
      { description: 'The lead could not be recorded right now; send it again.' },
    ),
    BatchResults: closed({
      results: {
        type: 'array',
        description: 'one result per lead, in request order',
        items: {
          oneOf: [ref('LeadAccepted'), ref('LeadDuplicate'), ref('LeadRejected'), ref('LeadFailed')],
          discriminator: {
            propertyName: 'status',
            mapping: {
              accepted: '#/components/schemas/LeadAccepted',
              duplicate: '#/components/schemas/LeadDuplicate',
              rejected: '#/components/schemas/LeadRejected',
              error: '#/components/schemas/LeadFailed',
            },
          },
        },
      },
    }),
    LeadSourceView: closed(sourceLeadViewProperties, {
      description:
        'A lead as its source sees it: its data (phone and email partly masked), its status and when each status was reached. Never a partner’s name, a partner’s answer, a price or a route.',
    }),
    LeadView: closed(leadViewProperties, {
      description:
        'A lead as the admin token sees it: everything, unmasked — partners, the routing decision and every delivery attempt with the partner’s answer.',
    }),
    Postback: closed(
      {
        id: { ...uuid, description: 'the lead id' },
        status: {
          enum: TERMINAL_STATUSES,
          description: 'the status the lead reached',
        },
        reason: { type: 'string', description: 'a reason in the source’s terms, where the status has one' },
        at: { ...dateTime, description: 'when the lead reached the status' },
      } satisfies Record<keyof PostbackBody, unknown>,
      {
        optional: ['reason'],
        description:
          'What a source’s `postbackUrl` receives when its lead reaches a final status. Never a partner’s name, answer or price.',
      },
    ),
    Health: closed({ status: { const: 'ok' } }),
    Readiness: closed({
      status: { enum: ['ok', 'unavailable'] },
      checks: closed({ redis: { type: 'boolean' }, postgres: { type: 'boolean' } }),
    }),
  };
}
