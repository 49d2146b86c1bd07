import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EXAMPLE_LEAD } from '@leadrouter/core';
import { IDEMPOTENCY_WINDOW_HOURS, MAX_IDEMPOTENCY_KEY } from '../leads/accept.js';
import { MAX_BATCH } from '../leads/router.js';
import { componentSchemas, ref, type JsonSchema } from './schemas.js';
import { DOCS_ASSETS } from './assets.js';
import { componentSchemas as apiSchemas, documented, pathsOf, ROUTES } from '@leadrouter/api';

/**
 * The OpenAPI 3.1 document of the ingest service, built in code from the
 * JSON Schemas that validate its requests (./schemas.ts). It describes every
 * route the app serves; test/e2e/openapi.test.ts checks that against the
 * Express router, lints the document with Redocly and validates real answers
 * against it.
 */
export type OpenApiDocument = JsonSchema & { openapi: '3.1.0'; paths: Record<string, PathItem> };
export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
export type PathItem = { parameters?: JsonSchema[] } & { [M in (typeof HTTP_METHODS)[number]]?: Operation };
export type Operation = JsonSchema & { responses: Record<string, JsonSchema> };

const json = (schema: JsonSchema, extra: JsonSchema = {}) => ({
  content: { 'application/json': { schema, ...extra } },
});
const responseRef = (name: string): JsonSchema => ({ $ref: `#/components/responses/${name}` });
const param = (name: string): JsonSchema => ({ $ref: `#/components/parameters/${name}` });
const retryAfter = { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } };

const SOURCE_KEY = [{ sourceBearer: [] }, { sourceApiKey: [] }];
const ADMIN = [{ adminBearer: [] }];
const PUBLIC: never[] = [];
const uuidSchema = { type: 'string', format: 'uuid' } as const;

const EXAMPLE_ID = '3f1c2a9e-5b7d-4c1e-9a8f-2d6b4e0c7a11';
const EXAMPLE_SOURCE_ID = '5d6e7f80-91a2-4b3c-8d4e-5f60718293a4';
const AT = '2026-01-31T12:00:00.000Z';

/** Answers every operation can give: the database is away (503), or a bug (500). */
const SERVER_ERRORS = { '500': responseRef('InternalError'), '503': responseRef('Unavailable') };

/** The admin API's ways in: the admin token, or the console's session cookie (ADR 0018). */
const ADMIN_OR_SESSION = [...ADMIN, { consoleSession: [] }];

function leadPaths(): Record<string, PathItem> {
  return {
    '/v1/leads': {
      post: {
        tags: ['Leads'],
        operationId: 'createLead',
        summary: 'Post a lead',
        description: [
          'Validates the lead and records it durably in PostgreSQL before answering `202`: an accepted lead is routed even if Redis, the worker or a partner is down at that moment, and the answer never waits for Redis.',
          '',
          'Unknown top-level properties are rejected. The phone is stored in E.164, with `geo` as the default region.',
          'A `422` lists every problem, not only the first.',
          '',
          `Send an \`Idempotency-Key\` to retry safely: the same key from the same source within ${IDEMPOTENCY_WINDOW_HOURS} h answers the first lead's \`202\` again, with no second lead; the same key with a different lead is a \`422\`.`,
        ].join('\n'),
        security: SOURCE_KEY,
        parameters: [param('IdempotencyKey')],
        requestBody: { required: true, ...json(ref('Lead'), { example: EXAMPLE_LEAD }) },
        responses: {
          '202': {
            description: 'Accepted: stored, and queued for routing.',
            ...json(ref('LeadAccepted'), { example: { status: 'accepted', id: EXAMPLE_ID } }),
          },
          '400': responseRef('Malformed'),
          '401': responseRef('Unauthorized'),
          '409': {
            description:
              'A duplicate: the same phone or email reached leadrouter (from any source) within this source’s `duplicateWindowHours` (0, the default, turns the check off). Nothing was stored. The answer names the existing lead only when it is one of yours: another source’s lead id is never shown.',
            ...json(ref('LeadDuplicate'), {
              examples: {
                yours: { summary: 'a repeat of one of your leads', value: { status: 'duplicate', id: EXAMPLE_ID } },
                another: { summary: 'a lead another source sent', value: { status: 'duplicate' } },
              },
            }),
          },
          '413': responseRef('TooLarge'),
          '415': responseRef('UnsupportedMediaType'),
          '422': {
            description: 'The lead (or its `Idempotency-Key`) is invalid; `errors` lists every problem.',
            ...json(ref('Error'), {
              example: {
                status: 'rejected',
                message: 'the request is invalid',
                errors: [
                  { field: '/phone', message: 'is not a valid phone number for US' },
                  { field: '/email', message: 'must match format "email"' },
                ],
              },
            }),
          },
          '429': responseRef('RateLimited'),
          '500': responseRef('InternalError'),
          '503': {
            description:
              'The lead could not be recorded durably right now (PostgreSQL is unreachable, or its connection failed); it was not accepted. Retry after `Retry-After` seconds, with the same `Idempotency-Key`: if it was stored after all (the connection failed after the commit), the retry answers its `202`, with no second lead.',
            headers: retryAfter,
            ...json(ref('Error')),
          },
        },
      },
    },
    '/v1/leads/batch': {
      post: {
        tags: ['Leads'],
        operationId: 'createLeadBatch',
        summary: 'Post up to 500 leads at once',
        description: [
          `Up to ${MAX_BATCH} leads (body at most 8 MB). Each lead is validated and recorded on its own, exactly as by \`POST /v1/leads\`, and gets a result in \`results\`, in request order: \`accepted\`, \`duplicate\`, \`rejected\` (with its \`errors\`) or \`error\` (could not be recorded right now: send that lead again).`,
          '',
          `An \`Idempotency-Key\` (at most ${MAX_IDEMPOTENCY_KEY - 4} characters here) applies to each lead as \`<key>#<index>\` (\`#0\` for the first), so a retried batch replays each lead's answer.`,
          '',
          'The whole batch counts against the source’s rate limit (one per lead) before any lead is recorded.',
        ].join('\n'),
        security: SOURCE_KEY,
        parameters: [param('BatchIdempotencyKey')],
        requestBody: {
          required: true,
          ...json(ref('LeadBatch'), { example: { leads: [EXAMPLE_LEAD, { name: 'Jane', phone: 'not a number' }] } }),
        },
        responses: {
          '207': {
            description: 'One result per lead, in request order.',
            ...json(ref('BatchResults'), {
              example: {
                results: [
                  { status: 'accepted', id: EXAMPLE_ID },
                  {
                    status: 'rejected',
                    errors: [
                      {
                        field: '/phone',
                        message:
                          'is not a valid phone number (use international format, e.g. +14155550100, or set geo)',
                      },
                    ],
                  },
                ],
              },
            }),
          },
          '400': responseRef('Malformed'),
          '401': responseRef('Unauthorized'),
          '413': responseRef('TooLarge'),
          '415': responseRef('UnsupportedMediaType'),
          '422': {
            description: `The body is not \`{"leads": [...]}\` with 1–${MAX_BATCH} leads, or the \`Idempotency-Key\` is too long. Nothing was recorded.`,
            ...json(ref('Error')),
          },
          '429': responseRef('RateLimited'),
          ...SERVER_ERRORS,
        },
      },
    },
    '/v1/leads/{id}': {
      get: {
        tags: ['Leads'],
        operationId: 'getLead',
        summary: 'Get a lead, its status and history',
        description: [
          'Each party sees its own view of the lead:',
          '',
          '- **the owning source’s key** (`LeadSourceView`): the lead’s data with phone and email partly masked, its status and when each status was reached. Nothing of its routing or deliveries: no partner’s name, answer or price, no route.',
          '- **the admin token** (`LeadView`): everything, unmasked — which partner took it, the routing decision with every partner’s fate, and every delivery attempt with the partner’s answer.',
          '',
          'Another source’s lead is a `404`, as is an id that is not a UUID.',
        ].join('\n'),
        security: [...SOURCE_KEY, ...ADMIN],
        parameters: [
          {
            name: 'id',
            in: 'path',
            required: true,
            description: 'the lead id from the `202`',
            schema: { ...uuidSchema },
          },
        ],
        responses: {
          '200': {
            description: 'The lead, as the caller may see it.',
            ...json(
              { oneOf: [ref('LeadSourceView'), ref('LeadView')] },
              {
                examples: {
                  source: {
                    summary: 'with the source’s key',
                    value: {
                      id: EXAMPLE_ID,
                      status: 'delivered',
                      createdAt: AT,
                      sourceId: EXAMPLE_SOURCE_ID,
                      lead: {
                        name: 'John',
                        phone: '+1415*****00',
                        email: 'j***@example.com',
                        geo: 'US',
                        source: 'Facebook',
                        fields: { zip: '94107', age: 42 },
                      },
                      events: [
                        { at: AT, status: 'queued' },
                        { at: '2026-01-31T12:00:00.120Z', status: 'routing' },
                        { at: '2026-01-31T12:00:00.170Z', status: 'delivered' },
                      ],
                    },
                  },
                  admin: {
                    summary: 'with the admin token',
                    value: {
                      id: EXAMPLE_ID,
                      status: 'delivered',
                      createdAt: AT,
                      sourceId: EXAMPLE_SOURCE_ID,
                      lead: {
                        name: 'John',
                        phone: '+14155550100',
                        email: 'john@example.com',
                        geo: 'US',
                        source: 'Facebook',
                        fields: { zip: '94107', age: 42 },
                      },
                      events: [
                        { at: AT, status: 'queued' },
                        { at: '2026-01-31T12:00:00.120Z', status: 'routing' },
                        { at: '2026-01-31T12:00:00.170Z', status: 'delivered', partner: 'acme' },
                      ],
                      routing: {
                        route: 'US leads',
                        strategy: 'priority',
                        partners: [{ partner: 'acme', decision: 'accepted', at: '2026-01-31T12:00:00.170Z' }],
                      },
                      deliveries: [
                        {
                          partner: 'acme',
                          attempt: 1,
                          outcome: 'accepted',
                          httpStatus: 200,
                          durationMs: 41,
                          error: null,
                          at: '2026-01-31T12:00:00.165Z',
                        },
                      ],
                    },
                  },
                },
              },
            ),
          },
          '401': responseRef('Unauthorized'),
          '404': responseRef('NotFound'),
          '429': responseRef('RateLimited'),
          ...SERVER_ERRORS,
        },
      },
    },
  };
}

/** What leadrouter sends out: the postback to a source's `postbackUrl`. */
function webhooks(): Record<string, PathItem> {
  return {
    leadStatus: {
      post: {
        tags: ['Leads'],
        operationId: 'leadStatusPostback',
        summary: 'Postback: your lead reached a final status',
        // No credential of the receiver's: leadrouter signs the body instead (below).
        security: PUBLIC,
        description: [
          'Sent to the source’s `postbackUrl` when one of its leads reaches `delivered`, `unsold`, `unmatched` or `dead_lettered` — once per lead and status.',
          '',
          'Only the source’s own terms: the lead id, the status and when it was reached. Never a partner’s name, a partner’s answer or a price.',
          '',
          'With `X-Lead-Id`, and signed with the source’s `postbackSecret` (Standard Webhooks: `webhook-id` — the same on every retry of one postback —, `webhook-timestamp`, `webhook-signature`). Answer 2xx to acknowledge it; 408, 429, 5xx and no answer are retried with exponential backoff, up to 8 attempts; any other 4xx ends it.',
        ].join('\n'),
        requestBody: {
          required: true,
          ...json(ref('Postback'), {
            example: { id: EXAMPLE_ID, status: 'delivered', at: '2026-01-31T12:00:00.170Z' },
          }),
        },
        responses: {
          '200': { description: 'Received (any 2xx).' },
          '400': { description: 'Refused (any 4xx but 408 and 429): not sent again.' },
          '503': { description: 'Not now (5xx, 408, 429, or no answer): sent again later.' },
        },
      },
    },
  };
}

/** What the operator console added to the admin API, and the console itself (ADR 0018). */
function consolePaths(): Record<string, PathItem> {
  return {
    '/console': {
      get: {
        tags: ['Console'],
        operationId: 'getConsole',
        summary: 'The operator console',
        description:
          'A web console on this admin API, served by this service with no third-party scripts or fonts and a strict Content-Security-Policy. Every path below `/console` is one of its pages (the same HTML); its hashed files under `/console/assets/` are cached for a year. Sign in there with the admin token.',
        security: PUBLIC,
        responses: {
          '200': { description: 'The console page.', content: { 'text/html': { schema: { type: 'string' } } } },
          '503': {
            description: 'The console has not been built (`npm run build`).',
            ...json(ref('Error')),
          },
        },
      },
    },
  };
}

function operationsPaths(): Record<string, PathItem> {
  return {
    '/healthz': {
      get: {
        tags: ['Operations'],
        operationId: 'getHealth',
        summary: 'Liveness',
        description: 'The process is alive. Checks nothing else.',
        security: PUBLIC,
        responses: { '200': { description: 'Alive.', ...json(ref('Health')) } },
      },
    },
    '/metrics': {
      get: {
        tags: ['Operations'],
        operationId: 'getMetrics',
        summary: 'Prometheus metrics',
        description:
          'This process’s metrics in the Prometheus text format: leads received by source and answer, request durations by route, and process metrics. The worker serves delivery, queue, dead-letter, cap and sweeper metrics on its own port (WORKER_PORT). Open unless `METRICS_TOKEN` is set; then it needs `Authorization: Bearer <METRICS_TOKEN>`.',
        security: PUBLIC,
        responses: {
          '200': {
            description: 'The metrics.',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
          '401': {
            description: '`METRICS_TOKEN` is set and the request did not carry it.',
            ...json(ref('Error')),
          },
        },
      },
    },
    '/readyz': {
      get: {
        tags: ['Operations'],
        operationId: 'getReadiness',
        summary: 'Readiness',
        description: 'Redis and PostgreSQL both answer (each within 1 s).',
        security: PUBLIC,
        responses: {
          '200': { description: 'Ready.', ...json(ref('Readiness')) },
          '503': {
            description: 'Redis or PostgreSQL does not answer; `checks` says which.',
            ...json(ref('Readiness')),
          },
        },
      },
    },
    '/admin/queues': {
      get: {
        tags: ['Operations'],
        operationId: 'getQueuesBoard',
        summary: 'Queues dashboard (Bull Board)',
        description:
          'Bull Board over every queue, for a browser: answered `401` with `WWW-Authenticate: Basic`, a browser asks for credentials — any user name, the admin token as the password. Read-only except for retrying failed jobs. The board’s own pages and API below this path are its internals, not part of this API.',
        security: [...ADMIN, { adminBasic: [] }],
        responses: {
          '200': { description: 'The dashboard.', content: { 'text/html': { schema: { type: 'string' } } } },
          '401': {
            description: 'No admin token.',
            headers: {
              'WWW-Authenticate': {
                description: 'asks a browser for credentials',
                required: true,
                schema: { type: 'string' },
              },
            },
            ...json(ref('Error')),
          },
          ...SERVER_ERRORS,
        },
      },
    },
    '/openapi.json': {
      get: {
        tags: ['Documentation'],
        operationId: 'getOpenApiDocument',
        summary: 'This OpenAPI document',
        security: PUBLIC,
        responses: {
          '200': {
            description: 'The OpenAPI 3.1 document.',
            ...json({
              type: 'object',
              required: ['openapi', 'info', 'paths'],
              properties: { openapi: { const: '3.1.0' }, info: { type: 'object' }, paths: { type: 'object' } },
            }),
          },
        },
      },
    },
    '/docs': {
      get: {
        tags: ['Documentation'],
        operationId: 'getApiReference',
        summary: 'The API reference page',
        description:
          'This document rendered by Swagger UI, served entirely by this service (no third-party scripts or fonts).',
        security: PUBLIC,
        responses: {
          '200': { description: 'An HTML page.', content: { 'text/html': { schema: { type: 'string' } } } },
        },
      },
    },
    '/docs/assets/{file}': {
      get: {
        tags: ['Documentation'],
        operationId: 'getApiReferenceAsset',
        summary: 'A script, style sheet or icon of the reference page',
        security: PUBLIC,
        parameters: [{ name: 'file', in: 'path', required: true, schema: { enum: Object.keys(DOCS_ASSETS) } }],
        responses: {
          '200': {
            description: 'The file.',
            content: Object.fromEntries(
              [...new Set(Object.values(DOCS_ASSETS).map((a) => a.type))].map((type) => [
                type,
                { schema: { type: 'string', ...(type.startsWith('image/') ? { contentMediaType: type } : {}) } },
              ]),
            ),
          },
          '404': responseRef('NotFound'),
        },
      },
    },
  };
}

const errorExample = (status: 'rejected' | 'error', message: string, errors?: JsonSchema[]) => ({
  example: { status, message, errors: errors ?? [{ message }] },
});

function components(): JsonSchema {
  return {
    securitySchemes: {
      sourceBearer: {
        type: 'http',
        scheme: 'bearer',
        description: 'A source’s API key (`lr_…`), issued by `POST /v1/admin/sources`: `Authorization: Bearer <key>`.',
      },
      sourceApiKey: {
        type: 'apiKey',
        in: 'header',
        name: 'X-API-Key',
        description: 'The same source API key, in the `X-API-Key` header instead.',
      },
      adminBasic: {
        type: 'http',
        scheme: 'basic',
        description: 'The operator token as the password of HTTP Basic (any user name), for a browser.',
      },
      adminBearer: {
        type: 'http',
        scheme: 'bearer',
        description: 'The operator token (`ADMIN_TOKEN`): `Authorization: Bearer $ADMIN_TOKEN`.',
      },
      consoleSession: {
        type: 'apiKey',
        in: 'cookie',
        name: 'lr_console',
        description:
          'The console’s session cookie, from `POST /v1/admin/session`. A request that changes something and carries it must also carry `X-CSRF-Token` (the session’s `csrfToken`), or it is answered `403`.',
      },
    },
    parameters: {
      IdempotencyKey: {
        name: 'Idempotency-Key',
        in: 'header',
        description: `Makes a retry safe: the same key from the same source within ${IDEMPOTENCY_WINDOW_HOURS} h answers the first lead's \`202\` again, with no second lead. Reusing a key for a different lead is a \`422\`.`,
        schema: { type: 'string', minLength: 1, maxLength: MAX_IDEMPOTENCY_KEY },
        example: 'order-7f3a-2026-01-31',
      },
      BatchIdempotencyKey: {
        name: 'Idempotency-Key',
        in: 'header',
        description: `Applied to each lead as \`<key>#<index>\` (index from 0), with the same ${IDEMPOTENCY_WINDOW_HOURS} h replay as a single lead.`,
        schema: { type: 'string', minLength: 1, maxLength: MAX_IDEMPOTENCY_KEY - 4 },
        example: 'batch-2026-01-31-001',
      },
    },
    headers: {
      RetryAfter: {
        description: 'Seconds to wait before trying again.',
        required: true,
        schema: { type: 'integer', minimum: 1 },
      },
    },
    responses: {
      Malformed: {
        description: 'The body is not well-formed JSON.',
        ...json(ref('Error'), errorExample('rejected', 'malformed JSON: Unexpected end of JSON input')),
      },
      Unauthorized: {
        description: 'The key or token is missing, unknown or revoked.',
        ...json(ref('Error'), errorExample('rejected', 'unknown or revoked API key')),
      },
      Forbidden: {
        description:
          'Authenticated by the console’s session cookie, without the session’s `X-CSRF-Token` (or with another one).',
        ...json(
          ref('Error'),
          errorExample(
            'rejected',
            'missing or wrong X-CSRF-Token: a request signed in by the console cookie must carry the token the console got at sign-in',
          ),
        ),
      },
      NotFound: {
        description: 'No such resource (or not yours to see).',
        ...json(ref('Error'), errorExample('rejected', 'lead not found')),
      },
      NameTaken: {
        description: 'Another resource of this kind has that `name`; names are unique.',
        ...json(ref('Error'), errorExample('rejected', 'a source with that name already exists; names are unique')),
      },
      TooLarge: {
        description: 'The body is larger than allowed (64 KiB for one lead and the admin API, 8 MB for a batch).',
        ...json(ref('Error'), errorExample('rejected', 'the body is larger than 64 KiB')),
      },
      UnsupportedMediaType: {
        description: 'The body is not sent as `Content-Type: application/json`.',
        ...json(ref('Error'), errorExample('rejected', 'send the body as JSON with Content-Type: application/json')),
      },
      Invalid: {
        description: 'The request is invalid; `errors` lists every problem, each with its `field`.',
        ...json(
          ref('Error'),
          errorExample('rejected', 'the request is invalid', [
            { field: '/name', message: 'is required' },
            { field: '/extra', message: 'is not an allowed property' },
          ]),
        ),
      },
      RateLimited: {
        description:
          'The source is over its `rateLimitPerMinute`, or the client’s address sent more than `AUTH_FAILURES_PER_MINUTE` requests with a missing or unknown API key this minute. Retry after `Retry-After` seconds.',
        headers: retryAfter,
        ...json(ref('Error'), errorExample('rejected', 'over the limit of 600 leads per minute; retry in 12 s')),
      },
      Unavailable: {
        description: 'PostgreSQL cannot be reached right now. Retry after `Retry-After` seconds.',
        headers: retryAfter,
        ...json(ref('Error'), errorExample('error', 'the service cannot reach its database right now; retry shortly')),
      },
      InternalError: {
        description: 'An unexpected error; it has been logged (find it by the `X-Request-Id` answer header).',
        ...json(ref('Error'), errorExample('error', 'internal error; it has been logged')),
      },
    },
    schemas: {
      ...Object.fromEntries([...apiSchemas()].map(([name, schema]) => [name, documented(schema, false)])),
      ...componentSchemas(),
    },
  };
}

/** Every state-changing admin operation can be answered 403: the console's cookie without its CSRF token. */
function withCsrfAnswers(paths: Record<string, PathItem>): Record<string, PathItem> {
  for (const [p, item] of Object.entries(paths)) {
    if (!p.startsWith('/v1/admin/')) continue;
    for (const method of ['post', 'put', 'patch', 'delete'] as const) {
      const op = item[method];
      if (op && op.security === ADMIN_OR_SESSION) op.responses = { ...op.responses, '403': responseRef('Forbidden') };
    }
  }
  return paths;
}

/** The root package.json's version: the product's version, found from src/ and from dist/ alike. */
export function productVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        version?: string;
        workspaces?: unknown;
      };
      if (pkg.workspaces && pkg.version) return pkg.version;
    } catch {
      /* no package.json here: look further up */
    }
    if (path.dirname(dir) === dir) throw new Error('openapi: cannot find the root package.json (for info.version)');
  }
}

export function buildOpenApiDocument(): OpenApiDocument {
  return {
    openapi: '3.1.0',
    info: {
      title: 'leadrouter ingest API',
      version: productVersion(),
      summary: 'Post leads, follow them, and set up their routing.',
      description: [
        'Affiliates (sources) post leads; leadrouter validates them, stores them durably, routes each to the partners (buyers) your routing rules allow, delivers them with retries, and records every step.',
        '',
        '**Authentication.** Lead endpoints take a source’s API key, as `Authorization: Bearer <key>` or `X-API-Key: <key>`. The admin API (`/v1/admin/*`) takes the operator token, `Authorization: Bearer $ADMIN_TOKEN`.',
        '',
        '**Answers** are JSON. Every error has `status` (`rejected`, or `error` for 5xx), a `message` and `errors` — every problem, each with the `field` it concerns where there is one. Every answer carries an `X-Request-Id` header (yours, if you sent a valid one). Clients should ignore properties they do not know: new ones may be added.',
      ].join('\n'),
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: 'http://localhost:3000', description: 'a local ingest (`npm start`; `PORT`, default 3000)' }],
    tags: [
      { name: 'Leads', description: 'For sources: post leads and follow them.' },
      { name: 'Sources', description: 'Affiliates that post leads, each with its own API key.' },
      { name: 'Partners', description: 'Buyers: HTTP APIs that receive leads.' },
      { name: 'Routes', description: 'Routing rules: which partners may buy which leads, in what order.' },
      {
        name: 'Dead letters',
        description: 'Deliveries that exhausted their attempts: list, retry, discard.',
      },
      { name: 'Operations', description: 'Lead search, statistics, the queues dashboard, liveness and readiness.' },
      { name: 'Console', description: 'The operator console and its sign-in.' },
      { name: 'Documentation', description: 'This document and its rendered reference page.' },
    ],
    paths: withCsrfAnswers({
      // The route table's operations (ADR 0019), then those written out here.
      ...(pathsOf(ROUTES) as Record<string, PathItem>),
      ...leadPaths(),
      ...consolePaths(),
      ...operationsPaths(),
    }),
    webhooks: webhooks(),
    components: components(),
  };
}
