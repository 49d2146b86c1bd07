/** A problem with one field of a request, addressed by JSON pointer. */
export interface FieldError {
  field?: string;
  message: string;
}

/**
 * The one error type that crosses layers. `httpStatus` is what the HTTP edge
 * answers; `retryable` is what a worker does with it.
 */
export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus: number,
    readonly details: { errors?: FieldError[]; retryAfterSeconds?: number; body?: Record<string, unknown> } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const invalid = (errors: FieldError[]): AppError =>
  new AppError('invalid', 'the request is invalid', 422, { errors });

export const notFound = (what: string): AppError => new AppError('not_found', `${what} not found`, 404);

export const conflict = (message: string, body?: Record<string, unknown>): AppError =>
  new AppError('conflict', message, 409, { body });

export const unauthorized = (message: string): AppError => new AppError('unauthorized', message, 401);

export const unavailable = (message: string, retryAfterSeconds: number, cause?: unknown): AppError =>
  new AppError('unavailable', message, 503, { retryAfterSeconds }, { cause });
