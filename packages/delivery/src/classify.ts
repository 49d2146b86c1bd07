import { DESTINATION_REFUSED } from './destination.js';

/** What came back from one HTTP attempt (or why nothing did). */
export type AttemptResult =
  | {
      kind: 'response';
      status: number;
      headers: Record<string, string | string[] | undefined>;
      body: string;
      durationMs: number;
    }
  | { kind: 'error'; code: string; message: string; durationMs: number };

export interface AcceptWhen {
  path: string;
  equals: string | number | boolean;
}

export type Classification =
  | { outcome: 'accepted' }
  | { outcome: 'rejected'; reason: string; pausePartner?: boolean }
  | { outcome: 'retry'; reason: string; retryAfterMs?: number };

/**
 * An attempt's outcome (README "What a partner receives"): 2xx accepted (unless acceptWhen says otherwise);
 * 4xx other than 408/429 rejected; 410 also pauses the partner; 408, 429
 * (with Retry-After), 5xx, timeouts and connection errors retried; 3xx is a
 * failure to retry, since redirects are not followed. A destination the
 * SSRF policy refuses is rejected at once, with the refusal as its reason.
 */
export function classify(
  result: AttemptResult,
  acceptWhen?: AcceptWhen | null,
  now: Date = new Date(),
): Classification {
  if (result.kind === 'error') {
    // The destination policy will refuse the same address on every attempt:
    // retrying it would only delay the lead's next candidate.
    if (result.code === DESTINATION_REFUSED) return { outcome: 'rejected', reason: result.message };
    return { outcome: 'retry', reason: `${result.code}: ${result.message}` };
  }
  const { status } = result;
  if (status >= 200 && status < 300) {
    if (!acceptWhen) return { outcome: 'accepted' };
    const actual = readJsonPath(result.body, acceptWhen.path);
    return actual === acceptWhen.equals
      ? { outcome: 'accepted' }
      : {
          outcome: 'rejected',
          reason: `${acceptWhen.path} is ${JSON.stringify(actual)}, not ${JSON.stringify(acceptWhen.equals)}`,
        };
  }
  if (status === 408 || status === 429) {
    const retryAfterMs = parseRetryAfter(result.headers['retry-after'], now);
    return { outcome: 'retry', reason: `HTTP ${status}`, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }
  if (status === 410) return { outcome: 'rejected', reason: 'HTTP 410 Gone: partner paused', pausePartner: true };
  if (status >= 400 && status < 500) return { outcome: 'rejected', reason: `HTTP ${status}` };
  if (status >= 300 && status < 400) return { outcome: 'retry', reason: `HTTP ${status} redirect (not followed)` };
  return { outcome: 'retry', reason: `HTTP ${status}` };
}

/** `Retry-After` as seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: Date): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

/** `a.b.0.c` on a JSON text; undefined when it is not JSON or the path is absent. */
export function readJsonPath(body: string, path: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * Exponential backoff with jitter: `delayMs · 2^(attempt-1)` capped at
 * `maxDelayMs`, then "equal jitter" (half fixed, half random) so retries of
 * many leads to one recovering partner spread out.
 */
export function backoffDelay(
  attempt: number,
  delayMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(maxDelayMs, delayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + (random() * exp) / 2);
}
