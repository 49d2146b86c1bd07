import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { AppError, compile, invalid, toFieldErrors, unstorableStrings, type FieldError } from '@leadrouter/core';
import { fromBodyParser } from './errors.js';

/** A lead body is at most 64 KiB (README "Posting leads (for sources)"). */
export const BODY_LIMIT = '64kb';

/**
 * Requires a JSON content type (415 otherwise), parses at most `limit` (413
 * beyond), and refuses strings PostgreSQL cannot store or absurd nesting
 * (422) before any handler sees the body.
 */
export function jsonBody(opts: { limit?: string } = {}): RequestHandler {
  const parse = express.json({ limit: opts.limit ?? BODY_LIMIT, strict: true, type: () => true });
  return (req: Request, res: Response, next: NextFunction) => {
    if (!req.is('application/json') && !req.is('application/*+json')) {
      throw new AppError('unsupported_media_type', 'send the body as JSON with Content-Type: application/json', 415);
    }
    parse(req, res, (err?: unknown) => {
      if (err) return next(fromBodyParser(err as Parameters<typeof fromBodyParser>[0]) ?? err);
      const problems = unstorableStrings(req.body);
      if (problems.length > 0) return next(invalid(problems));
      next();
    });
  };
}

/** Like jsonBody, for endpoints whose body is optional: a request without one passes through. */
export function optionalJsonBody(): RequestHandler {
  const parse = jsonBody();
  return (req, res, next) =>
    req.headers['content-length'] === '0' || !req.readable || !hasBody(req) ? next() : parse(req, res, next);
}

function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/**
 * A validator for a request body schema that throws a 422 listing every
 * problem: the schema's, and those `check` finds (what JSON Schema cannot
 * say; it reads the body whether or not the schema accepted it).
 */
export function bodyValidator<T>(schema: object, check?: (body: unknown) => FieldError[]): (body: unknown) => T {
  const validate = compile<T>(schema);
  return (body) => {
    const errors = validate(body) ? [] : toFieldErrors(validate.errors);
    if (check) errors.push(...check(body));
    if (errors.length > 0) throw invalid(errors);
    return body as T;
  };
}
