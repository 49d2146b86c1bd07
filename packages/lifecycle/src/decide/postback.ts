import { storableText } from '@leadrouter/core/runtime';
import { backoffDelay, type Classification } from '@leadrouter/delivery/requests';

/** Postbacks retry like a partner with the default policy (README "Postbacks (for sources)"). */
export const POSTBACK_POLICY = { timeoutMs: 10_000, maxAttempts: 8, delayMs: 1_000, maxDelayMs: 3_600_000 };

/**
 * What one postback attempt leads to: `delivered` (2xx), `failed` (the
 * source refused it, or the last attempt failed), or a `retry` after
 * `retryInMs`. `error` is what the postback keeps as its last error:
 * storable text, at most 1,000 characters (the source's server is as
 * untrusted as a partner).
 */
export type PostbackDecision =
  { step: 'delivered' } | { step: 'failed'; error: string } | { step: 'retry'; error: string; retryInMs: number };

/**
 * The postback's retry verdict: a refusal (4xx but 408/429) is final; any
 * other failure is retried after the source's `Retry-After` when it sent
 * one, else after exponential backoff with jitter, never later than
 * `POSTBACK_POLICY.maxDelayMs`, until `POSTBACK_POLICY.maxAttempts`.
 */
export function decidePostback(verdict: Classification, attempt: number, random: () => number): PostbackDecision {
  const error = (reason: string) => storableText(reason, { chars: 1000 });
  switch (verdict.outcome) {
    case 'accepted':
      return { step: 'delivered' };
    case 'rejected':
      return { step: 'failed', error: error(verdict.reason) };
    case 'retry': {
      if (attempt >= POSTBACK_POLICY.maxAttempts) return { step: 'failed', error: error(verdict.reason) };
      const { delayMs, maxDelayMs } = POSTBACK_POLICY;
      const retryInMs = Math.min(
        maxDelayMs,
        verdict.retryAfterMs ?? backoffDelay(attempt, delayMs, maxDelayMs, random),
      );
      return { step: 'retry', error: error(verdict.reason), retryInMs };
    }
  }
}
