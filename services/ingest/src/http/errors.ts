import { AppError } from '@leadrouter/core';
import { isDatabaseUnavailable } from '@leadrouter/db';
import type { ErrorRequestHandler, Request, Response } from 'express';

/** The body every error answer has: a `status`, a message, and each problem in `errors`. */
export function errorBody(err: AppError): Record<string, unknown> {
  const status = err.code === 'unavailable' || err.httpStatus >= 500 ? 'error' : 'rejected';
  return {
    status,
    message: err.message,
    errors: err.details.errors ?? [{ message: err.message }],
    ...err.details.body,
  };
}

export function sendError(res: Response, err: AppError): void {
  if (err.details.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(err.details.retryAfterSeconds));
  res.status(err.httpStatus).json(errorBody(err));
}

interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
  message: string;
}

/** express.json()'s own errors, as the lead API's answers (README "Posting leads (for sources)"). */
export function fromBodyParser(err: BodyParserError): AppError | null {
  switch (err.type) {
    case 'entity.parse.failed':
      return new AppError('malformed', `malformed JSON: ${err.message}`, 400);
    case 'entity.too.large':
      return new AppError(
        'too_large',
        `the body is larger than ${err.limit ? `${Math.round(err.limit / 1024)} KiB` : 'allowed'}; send fewer or smaller leads`,
        413,
      );
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError('unsupported', err.message, 415);
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new AppError('bad_request', err.message, 400);
    default:
      return null;
  }
}

/** The one error middleware: known errors as their answer, anything else as a logged 500. */
export const errorHandler: ErrorRequestHandler = (err: unknown, req: Request, res: Response, _next) => {
  const known =
    err instanceof AppError
      ? err
      : typeof err === 'object' && err !== null && 'type' in err
        ? fromBodyParser(err as BodyParserError)
        : null;
  if (known) return sendError(res, known);
  if (isDatabaseUnavailable(err)) {
    req.log?.warn({ err: { message: (err as Error).message } }, 'database unavailable');
    return sendError(
      res,
      new AppError('unavailable', 'the service cannot reach its database right now; retry shortly', 503, {
        retryAfterSeconds: 5,
      }),
    );
  }
  req.log?.error({ err }, 'unhandled error');
  sendError(res, new AppError('internal', 'internal error; it has been logged', 500));
};
