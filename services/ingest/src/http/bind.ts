import { Router, type Request, type RequestHandler, type Response } from 'express';
import { checkQuery, compile, notFound, queryValidator, type FieldError } from '@leadrouter/core';
import type { Answer, Input, Party, QueryOf, Reply, RouteSpec, TextReply } from '@leadrouter/api';
import { bodyValidator, jsonBody, optionalJsonBody } from './body.js';

/**
 * A handler of a table entry: its validated input in (the query as its reader made it, if the entry has one), one
 * of its answers out (errors are thrown).
 */
export type Handler<S extends RouteSpec, Q = QueryOf<S>> = (
  input: Omit<Input<S>, 'query'> & { query: Q },
  req: Request,
  res: Response,
) => Promise<Reply<S>>;

/** What JSON Schema cannot say about a body, found beside the schema's problems (one 422 lists them all). */
export type BodyCheck = (body: unknown) => FieldError[];

/**
 * Reads a query the schema accepted further, for what no JSON Schema states (a cursor, a name to look up, `since`
 * before `until`): it gets the parameters that passed, adds its own problems to `problems` (listed in the same
 * 422 as the schema's; the handler does not run then), and returns what the handler gets as `query`.
 */
export type QueryRead<S extends RouteSpec, Q> = (query: QueryOf<S>, problems: FieldError[]) => Q | Promise<Q>;

/** What an entry needs besides its schemas. */
export interface BindOptions<S extends RouteSpec = RouteSpec, Q = QueryOf<S>> {
  check?: BodyCheck;
  query?: QueryRead<S, Q>;
  /**
   * Middleware of this entry alone, run after its party's guards and before its body is read: what must refuse a
   * request before its body costs anything (the lead API's rate limit).
   */
  before?: RequestHandler[];
}

/**
 * A router for the table's entries below `base` (`/v1/admin/sources`). Each entry is bound with the guards of
 * its party, its own middleware (`before`), its body parsed (415, 400, 413) and validated with its schema (422
 * listing every problem), its path parameters checked (a value that matches no resource is a 404), its query
 * validated with its schema and read by its reader (one 422 listing every problem) and its handler's answer sent. Validators are compiled once per entry, on its first request: an ingest that serves
 * sources alone never compiles the admin API's schemas, whose generated code would grow its heap at start
 * (ADR 0009).
 */
export function tableRouter(base: string, guards: Partial<Record<Party, RequestHandler[]>> = {}) {
  const router = Router();
  function bind<S extends RouteSpec, Q = QueryOf<S>>(
    spec: S,
    handler: NoInfer<Handler<S, Q>>,
    opts: BindOptions<S, Q> = {},
  ): void {
    if (!spec.path.startsWith(base)) throw new Error(`${spec.path} is not below ${base}`);
    const path = spec.path.slice(base.length).replace(/\{(\w+)\}/g, ':$1') || '/';
    const validParams = spec.params ? once(() => compile(spec.params!)) : undefined;
    const validQuery = spec.query ? once(() => queryValidator<QueryOf<S>>(spec.query!)) : undefined;
    const validBody =
      spec.body && !spec.body.unchecked
        ? once(() => bodyValidator(spec.body!.envelope ?? spec.body!.schema, opts.check))
        : undefined;
    const parse = spec.body
      ? spec.body.optional
        ? [optionalJsonBody()]
        : [jsonBody(spec.body.limit ? { limit: spec.body.limit } : {})]
      : [];
    const guard = guards[spec.party] ?? [];
    router[spec.method](path, ...guard, ...(opts.before ?? []), ...parse, async (req: Request, res: Response) => {
      if (validParams && !validParams()(req.params)) throw notFound(spec.resource ?? 'resource');
      let query: unknown = {};
      if (validQuery) {
        const { value, problems } = validQuery()(req.query);
        query = opts.query ? await opts.query(value, problems) : value;
        checkQuery(spec.query!, problems);
      }
      const body: unknown = req.body;
      const input = {
        params: req.params,
        query,
        body: validBody && !(spec.body?.optional && body === undefined) ? validBody()(body) : body,
      } as Omit<Input<S>, 'query'> & { query: Q };
      const reply = (await handler(input, req, res)) as { status: number; body?: unknown } | TextReply;
      if ('text' in reply) {
        // The answer's other media type (a report as CSV), as the table entry names it.
        const answer = spec.answers[reply.status] as Answer | undefined;
        if (!answer || typeof answer !== 'object' || !answer.text)
          throw new Error(`${spec.operationId}: no text answer for ${reply.status}`);
        res
          .status(reply.status)
          .set(reply.headers ?? {})
          .type(answer.text.mediaType)
          .send(reply.text);
      } else if ('body' in reply) res.status(reply.status).json(reply.body);
      else res.status(reply.status).end();
    });
  }
  return { router, bind };
}

/** `make()` on the first call, its result on every later one. */
function once<T>(make: () => T): () => T {
  let made: T | undefined;
  return () => (made ??= make());
}
