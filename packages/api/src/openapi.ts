/**
 * The OpenAPI `paths` of the route table: each entry's operation, with the answers every operation of its
 * kind can give added (ADR 0019). The ingest puts them into its document beside what is not in the table.
 */
import { isDeepStrictEqual } from 'node:util';
import { NullableFilters, type TSchema } from '@leadrouter/core';
import { nameOf } from './components.js';
import type { Answer, RouteSpec } from './table.js';

export type JsonObject = { [key: string]: unknown };

const responseRef = (name: string): JsonObject => ({ $ref: `#/components/responses/${name}` });
const schemaRef = (name: string): JsonObject => ({ $ref: `#/components/schemas/${name}` });

/** How each party authenticates, as OpenAPI security requirements (components.securitySchemes). */
export const SECURITY = {
  source: [{ sourceBearer: [] }, { sourceApiKey: [] }],
  sourceOrAdmin: [{ sourceBearer: [] }, { sourceApiKey: [] }, { adminBearer: [] }],
  admin: [{ adminBearer: [] }, { consoleSession: [] }],
  session: [{ consoleSession: [] }],
  partner: [{ partnerFeedbackKey: [] }],
  public: [],
} as const;

/** Answers of every operation that reads a JSON body (the ingest's jsonBody). */
const BODY_ANSWERS = {
  '400': responseRef('Malformed'),
  '413': responseRef('TooLarge'),
  '415': responseRef('UnsupportedMediaType'),
  '422': responseRef('Invalid'),
};
/** Answers every operation can give: a bug (500), or the database is away (503). */
const SERVER_ANSWERS = { '500': responseRef('InternalError'), '503': responseRef('Unavailable') };

/**
 * A schema as the document shows it: a named one by reference, the others as they are — a deep copy, with the
 * nullable filters written as a reference to `Filters` or null (the same schema, written once).
 */
export function documented(schema: TSchema, top = true): unknown {
  const name = top ? nameOf(schema) : undefined;
  if (name) return schemaRef(name);
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node !== 'object' || node === null) return node;
    if (isDeepStrictEqual(node, NULLABLE_FILTERS)) return { anyOf: [schemaRef('Filters'), { type: 'null' }] };
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
  };
  return walk(schema);
}
const NULLABLE_FILTERS = JSON.parse(JSON.stringify(NullableFilters)) as unknown;

function answer(a: Answer | string): JsonObject {
  if (typeof a === 'string') return responseRef(a);
  // A thrown answer is the error body (`Error`) unless its schema says more (a 409's `reason`).
  const body = a.schema ? documented(a.schema) : a.error ? schemaRef('Error') : undefined;
  const text = a.text
    ? {
        [a.text.mediaType]: {
          schema: { type: 'string', ...(a.text.description ? { description: a.text.description } : {}) },
          ...(a.text.example !== undefined ? { example: a.text.example } : {}),
        },
      }
    : {};
  return {
    description: a.description,
    ...(a.headers ? { headers: a.headers } : {}),
    ...(body
      ? {
          content: {
            'application/json': {
              schema: body,
              ...(a.example !== undefined ? { example: a.example } : {}),
              ...(a.examples ? { examples: a.examples } : {}),
            },
            ...text,
          },
        }
      : {}),
  };
}

function parameters(where: 'path' | 'query', schema: RouteSpec['params'] | undefined): JsonObject[] {
  if (!schema) return [];
  const required = new Set((schema as { required?: string[] }).required ?? []);
  return Object.entries(schema.properties).map(([name, s]) => {
    const { description, example, ...rest } = documented(s, false) as JsonObject;
    return {
      name,
      in: where,
      ...(where === 'path' || required.has(name) ? { required: true } : {}),
      ...(description !== undefined ? { description } : {}),
      schema: rest,
      ...(example !== undefined ? { example } : {}),
    };
  });
}

/** The operation of one table entry. */
export function operationOf(spec: RouteSpec): JsonObject {
  const answers = Object.fromEntries(Object.entries(spec.answers).map(([status, a]) => [status, answer(a)]));
  const changes = spec.method !== 'get';
  // The answers of its kind, unless the entry writes one out (the lead API's 503 says more than `Unavailable`).
  const responses = {
    ...(spec.body ? BODY_ANSWERS : {}),
    ...(spec.party === 'admin'
      ? { '401': responseRef('Unauthorized'), ...(changes ? { '403': responseRef('Forbidden') } : {}) }
      : {}),
    ...SERVER_ANSWERS,
    ...answers,
  };
  const params = [...parameters('path', spec.params), ...(spec.headers ?? []), ...parameters('query', spec.query)];
  return {
    tags: [spec.tag],
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    security: SECURITY[spec.party],
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(spec.body
      ? {
          requestBody: {
            required: !spec.body.optional,
            content: {
              'application/json': {
                schema: documented(spec.body.schema),
                ...(spec.body.example !== undefined ? { example: spec.body.example } : {}),
              },
            },
          },
        }
      : {}),
    responses: sortByStatus(responses),
  };
}

const sortByStatus = (responses: JsonObject) =>
  Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));

/** The `paths` of the table's entries. */
export function pathsOf(specs: readonly RouteSpec[]): Record<string, Record<string, JsonObject>> {
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const spec of specs) {
    const item = (paths[spec.path] ??= {});
    if (item[spec.method]) throw new Error(`api: ${spec.method.toUpperCase()} ${spec.path} is in the table twice`);
    item[spec.method] = operationOf(spec);
  }
  return paths;
}
