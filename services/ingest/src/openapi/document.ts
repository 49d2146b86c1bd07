import { readFileSync } from 'node:fs';
import path from 'node:path';
import { componentSchemas, documented, EXAMPLE_ID, pathsOf, ROUTES } from '@leadrouter/api';
import { DOCS_ASSETS } from './assets.js';

/**
 * The OpenAPI 3.1 document of the ingest service. The JSON API's operations and their schemas are generated
 * from @leadrouter/api's route table, whose schemas validate the requests (ADR 0019); written out here are what
 * answers no JSON API (health, readiness, metrics, the Bull Board, the console page, this document and its
 * reference page), the postback webhook, and the components the table's answers refer to by name.
 * test/e2e/openapi.test.ts checks that it describes every route the app serves and lints it with Redocly.
 */
export type JsonSchema = { [keyword: string]: unknown };
export type OpenApiDocument = JsonSchema & { openapi: '3.1.0'; paths: Record<string, PathItem> };
export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
export type PathItem = { parameters?: JsonSchema[] } & { [M in (typeof HTTP_METHODS)[number]]?: Operation };
export type Operation = JsonSchema & { responses: Record<string, JsonSchema> };

const json = (schema: JsonSchema, extra: JsonSchema = {}) => ({
  content: { 'application/json': { schema, ...extra } },
});
const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const responseRef = (name: string): JsonSchema => ({ $ref: `#/components/responses/${name}` });
const retryAfter = { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } };

const ADMIN = [{ adminBearer: [] }];
const PUBLIC: never[] = [];

/** Answers every operation can give: the database is away (503), or a bug (500). */
const SERVER_ERRORS = { '500': responseRef('InternalError'), '503': responseRef('Unavailable') };

/** What leadrouter sends out: the postback to a source's `postbackUrl`. */
function webhooks(): Record<string, PathItem> {
  return {
    leadStatus: {
      post: {
        tags: ['Leads'],
        operationId: 'leadStatusPostback',
        summary: 'Postback: your lead reached a final status, or converted, was returned or reversed',
        // No credential of the receiver's: leadrouter signs the body instead (below).
        security: PUBLIC,
        description: [
          'Sent to the source’s `postbackUrl` when one of its leads reaches `delivered`, `unsold`, `unmatched` or `dead_lettered` — once per lead and status —, and when a buyer reports what became of it: `converted`, `returned` (an approved return, with its `reason`) and `reversed` (a conversion taken back) — once per event and buyer (a lead two partners bought can be returned twice).',
          '',
          'Only the source’s own terms: the lead id, the status or event, when it happened, and `payout`: what you earn with it (on `delivered`, what its sale paid you; on `converted`, the conversion’s payout; on `returned` and `reversed`, what is taken back, negative — 0 when nothing is). Never a partner’s name, a partner’s answer or a price.',
          '',
          'With `X-Lead-Id`, and signed with the source’s `postbackSecret` (Standard Webhooks: `webhook-id` — the same on every retry of one postback —, `webhook-timestamp`, `webhook-signature`). Answer 2xx to acknowledge it; 408, 429, 5xx and no answer are retried with exponential backoff, up to 8 attempts; any other 4xx ends it.',
        ].join('\n'),
        requestBody: {
          required: true,
          ...json(ref('Postback'), {
            examples: {
              delivered: {
                summary: 'a final status',
                value: { id: EXAMPLE_ID, status: 'delivered', payout: 10, at: '2026-01-31T12:00:00.170Z' },
              },
              returned: {
                summary: 'an approved return',
                value: {
                  id: EXAMPLE_ID,
                  status: 'returned',
                  payout: -10,
                  reason: 'disconnected number',
                  at: '2026-02-03T09:12:00.000Z',
                },
              },
            },
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
      partnerFeedbackKey: {
        type: 'http',
        scheme: 'bearer',
        description:
          'A partner’s feedback key (`lrf_…`), issued when the partner is created (`POST /v1/admin/partners`) or by `POST /v1/admin/partners/{id}/rotate-feedback-key`: `Authorization: Bearer <key>`.',
      },
      consoleSession: {
        type: 'apiKey',
        in: 'cookie',
        name: 'lr_console',
        description:
          'The console’s session cookie, from `POST /v1/admin/session`. A request that changes something and carries it must also carry `X-CSRF-Token` (the session’s `csrfToken`), or it is answered `403`.',
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
    schemas: Object.fromEntries([...componentSchemas()].map(([name, schema]) => [name, documented(schema, false)])),
  };
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
        '**Authentication.** Lead endpoints take a source’s API key, as `Authorization: Bearer <key>` or `X-API-Key: <key>`. Partners send feedback with their feedback key, `Authorization: Bearer <key>`. The admin API (`/v1/admin/*`) takes the operator token, `Authorization: Bearer $ADMIN_TOKEN`.',
        '',
        '**Money** is in the installation’s `CURRENCY`: amounts are exact, with at most 4 decimal places, taken as JSON numbers or decimal strings and answered as JSON numbers.',
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
      {
        name: 'Feedback',
        description: 'For partners: what became of the leads you bought (conversions, returns, reversals, statuses).',
      },
      {
        name: 'Returns',
        description:
          'Partners’ returns of leads they bought, the operators’ queue, and manual corrections of a lead’s money.',
      },
      {
        name: 'Reports',
        description: 'Leads, sales, conversions, returns and money per day, hour, source, partner, geo and channel.',
      },
      { name: 'Operations', description: 'Lead search, statistics, the queues dashboard, liveness and readiness.' },
      { name: 'Console', description: 'The operator console and its sign-in.' },
      { name: 'Documentation', description: 'This document and its rendered reference page.' },
    ],
    paths: {
      // The route table's operations (ADR 0019), then those written out here.
      ...(pathsOf(ROUTES) as Record<string, PathItem>),
      ...consolePaths(),
      ...operationsPaths(),
    },
    webhooks: webhooks(),
    components: components(),
  };
}
