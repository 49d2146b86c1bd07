/**
 * The console's one way to the server: the admin API under /v1/admin, with
 * the session cookie (sent by the browser) and, on every request that can
 * change something, the session's CSRF token. Errors become `ApiError`s that
 * keep the API's `errors` (each with its `field`), so forms can show them
 * beside the field they concern.
 */

export interface FieldError {
  field?: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: FieldError[] = [],
    readonly body: unknown = undefined,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The message for one field (JSON pointer such as `/filters/geo`, or a query parameter name), if any. */
  forField(field: string): string | undefined {
    const hits = this.errors.filter((e) => e.field === field || e.field?.startsWith(`${field}/`));
    return hits.length
      ? hits.map((e) => (e.field === field ? e.message : `${e.field}: ${e.message}`)).join('; ')
      : undefined;
  }
}

let csrfToken: string | undefined;
let signedOutListener: (() => void) | undefined;

/** Set at sign-in (and when a reloaded page finds its session); cleared at sign-out. */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** Called when the API answers 401: the session has ended (expired, signed out elsewhere). */
export function onSignedOut(listener: () => void): void {
  signedOutListener = listener;
}

const SAFE = new Set(['GET', 'HEAD']);

export interface RequestOptions {
  body?: unknown;
  signal?: AbortSignal;
  /** Do not treat a 401 as the end of the session (the sign-in form's own call). */
  quiet401?: boolean;
}

/** A request to `/v1/admin${path}`; resolves with the JSON answer (undefined for 204). */
export async function api<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (!SAFE.has(method) && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(`/v1/admin${path}`, {
      method,
      headers,
      credentials: 'same-origin',
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'the server could not be reached; check the connection and try again');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  if (!res.ok) {
    const b = (typeof body === 'object' && body !== null ? body : {}) as { message?: string; errors?: FieldError[] };
    const message = b.message ?? `the server answered ${res.status}`;
    if (res.status === 401 && !opts.quiet401) signedOutListener?.();
    throw new ApiError(res.status, message, Array.isArray(b.errors) ? b.errors : [], body);
  }
  return body as T;
}

/** A query string from the defined, non-empty values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
