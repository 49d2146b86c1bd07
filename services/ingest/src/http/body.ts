import express, { type NextFunction, type Request, type Response } from 'express';
import { AppError, compile, invalid, toFieldErrors } from '@leadrouter/core';

export const BODY_LIMIT = '64kb';

const json = express.json({ limit: BODY_LIMIT, strict: true, type: () => true });

/** Requires a JSON content type (415 otherwise), then parses at most 64 KiB (413 beyond). */
export function jsonBody(req: Request, res: Response, next: NextFunction): void {
  if (!req.is('application/json') && !req.is('application/*+json')) {
    throw new AppError('unsupported_media_type', 'send the body as JSON with Content-Type: application/json', 415);
  }
  json(req, res, next);
}

/** A validator for a request body schema that throws a 422 listing every problem. */
export function bodyValidator<T>(schema: object): (body: unknown) => T {
  const validate = compile<T>(schema);
  return (body) => {
    if (!validate(body)) throw invalid(toFieldErrors(validate.errors));
    return body;
  };
}
