/**
 * The route table: every operation of the JSON API as data — method, path, who may call it, the schemas of its
 * path parameters, query, body and answers, and its documentation. The ingest wires Express from it (validating
 * with these schemas and binding a typed handler to each entry), and the OpenAPI document's `paths` are
 * generated from it (openapi.ts), so the two cannot drift apart (ADR 0019).
 */
import type { Static, TSchema } from '@leadrouter/core';

export type Method = 'get' | 'post' | 'patch' | 'delete';

/**
 * Who may call an operation: a source's API key; a source's key or the admin token; the admin token or the
 * console's session (the admin API); the console's session cookie only; a partner's feedback key; anyone.
 */
export type Party = 'source' | 'sourceOrAdmin' | 'admin' | 'session' | 'partner' | 'public';

/** A standard answer, described once in the document's `components.responses`. */
export type StandardAnswer =
  | 'Malformed'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'NameTaken'
  | 'TooLarge'
  | 'UnsupportedMediaType'
  | 'Invalid'
  | 'RateLimited'
  | 'Unavailable'
  | 'InternalError';

/** An answer written out for its operation: its description, and the schema of its JSON body if it has one. */
export interface Answer<S extends TSchema = TSchema> {
  description: string;
  schema?: S;
  /**
   * An answer the handler throws (AppError), not one it returns: its body is the error body (`Error`), or
   * `schema` (an error body with more to say).
   */
  error?: true;
  example?: unknown;
  examples?: Record<string, { summary: string; value: unknown }>;
  /** Response headers, as OpenAPI header objects (or `$ref`s to `components.headers`). */
  headers?: Record<string, unknown>;
  /**
   * The same answer as text of another media type, which the handler may send instead of the JSON body (a
   * report as CSV): `{status, text, headers?}`.
   */
  text?: { mediaType: string; description?: string; example?: string };
}

export type Answers = { [status: number]: Answer | StandardAnswer };

export interface BodySpec<S extends TSchema = TSchema> {
  schema: S;
  /** A request without a body is accepted (and its `body` is undefined). */
  optional?: true;
  /**
   * The schema documents the body, and the handler reads it itself (with messages of its own, or leniently):
   * it gets the parsed JSON as it came.
   */
  unchecked?: true;
  /**
   * The schema the body is validated with where the handler checks its parts itself, each with an answer of
   * its own: a batch's envelope (`{leads: [...]}`), whose leads `schema` (what the document shows) describes.
   */
  envelope?: TSchema;
  /** The largest body taken (express.json's `limit`); 64 KiB by default. */
  limit?: string;
  example?: unknown;
}

export interface RouteSpec {
  method: Method;
  /** The OpenAPI path: `/v1/admin/sources/{id}`. */
  path: string;
  party: Party;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  /**
   * The path parameters, one property each. A value that does not match its schema names no resource: the
   * answer is `404 "<resource> not found"`.
   */
  params?: TSchema & { properties: Record<string, TSchema> };
  /** What a 404 calls the resource the path names. */
  resource?: string;
  /**
   * The query parameters, one property each, each optional: what the document lists and what the query is
   * validated with (coerced from text where a parameter is a number; a parameter not named here is a problem).
   * What no schema states (a cursor, a name to look up, `since` before `until`) is its handler's reader's.
   */
  query?: TSchema & { properties: Record<string, TSchema> };
  /** Header parameters, as OpenAPI parameter objects. */
  headers?: Record<string, unknown>[];
  body?: BodySpec;
  answers: Answers;
}

/** Declares an entry of the table, keeping its literal types (so handlers are typed by it). */
export function route<const S extends RouteSpec>(spec: S): S {
  return spec;
}

type SchemaOf<T> = T extends { schema: infer S extends TSchema } ? S : never;

/** The validated query of `S`. */
export type QueryOf<S extends RouteSpec> = S['query'] extends TSchema ? Static<S['query']> : Record<string, never>;

/** What a handler of `S` receives, validated. */
export interface Input<S extends RouteSpec> {
  params: S['params'] extends TSchema ? Static<S['params']> : Record<string, never>;
  /** The query's parameters that were given, coerced to their schemas' types. */
  query: QueryOf<S>;
  body: S['body'] extends BodySpec
    ? S['body']['unchecked'] extends true
      ? unknown
      : S['body']['envelope'] extends TSchema
        ? Static<S['body']['envelope']>
        : S['body']['optional'] extends true
          ? Static<SchemaOf<S['body']>> | undefined
          : Static<SchemaOf<S['body']>>
    : undefined;
}

/**
 * What a handler of `S` answers: one of the operation's written-out answers, with a body of its schema (none
 * when it has no schema). Errors are thrown (AppError) and answered by the error middleware.
 */
export type Reply<S extends RouteSpec> = {
  [K in keyof S['answers'] & number]: S['answers'][K] extends StandardAnswer | { error: true }
    ? never
    : S['answers'][K] extends { schema: infer B extends TSchema }
      ? { status: K; body: Static<B> } | (S['answers'][K] extends { text: object } ? TextReply<K> : never)
      : { status: K };
}[keyof S['answers'] & number];

/** An answer sent as text of the answer's `text.mediaType`, with headers of its own (`Content-Disposition`). */
export interface TextReply<K extends number = number> {
  status: K;
  text: string;
  headers?: Record<string, string>;
}
