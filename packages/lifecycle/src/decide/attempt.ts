import { storableText } from '@leadrouter/core/runtime';
import { backoffDelay, type Classification } from '@leadrouter/delivery/requests';

/** A partner's retry settings (README "What a partner receives"). */
export interface RetryPolicy {
  maxAttempts: number;
  backoffDelayMs: number;
  backoffMaxDelayMs: number;
}

export interface AttemptInput {
  /** What the partner's answer (or its absence) came to: `classify(...)`. */
  verdict: Classification;
  /** The attempt's number in its round: each operator retry of a dead letter starts a fresh round of `maxAttempts`. */
  attemptInRound: number;
  policy: RetryPolicy;
  /** The reason the partner gave with a rejection (its `responseMap.reason`), if any. */
  answerReason?: string;
  /** In [0, 1): the backoff's jitter. */
  random: () => number;
}

/**
 * What one delivery attempt leads to: the delivery `accepted` or `rejected`
 * (both final), a `retry` after `retryInMs`, or `dead_lettered` once a
 * failure finds the round's attempts used up. `error` is what the delivery
 * keeps as its last error: storable text, at most 1,000 characters.
 */
export type AttemptDecision =
  | { step: 'accepted' }
  | { step: 'rejected'; error: string }
  | { step: 'retry'; error: string; retryInMs: number }
  | { step: 'dead_lettered'; error: string };

/**
 * The retry / dead-letter verdict. A failure is retried after the partner's
 * `Retry-After` when it sent one, else after exponential backoff with
 * jitter, never later than `backoffMaxDelayMs`; the failure of the round's
 * last attempt dead-letters the delivery. A rejection's reason carries the
 * partner's own reason when it gave one.
 */
export function decideAttempt({
  verdict,
  attemptInRound,
  policy,
  answerReason,
  random,
}: AttemptInput): AttemptDecision {
  // Reasons may quote the partner's answer (acceptWhen, its reason): kept, like all of it, as storable text.
  const error = (reason: string) => storableText(reason, { chars: 1000 });
  switch (verdict.outcome) {
    case 'accepted':
      return { step: 'accepted' };
    case 'rejected':
      return { step: 'rejected', error: error(answerReason ? `${verdict.reason}: ${answerReason}` : verdict.reason) };
    case 'retry': {
      if (attemptInRound >= policy.maxAttempts) return { step: 'dead_lettered', error: error(verdict.reason) };
      const retryInMs = Math.min(
        policy.backoffMaxDelayMs,
        verdict.retryAfterMs ?? backoffDelay(attemptInRound, policy.backoffDelayMs, policy.backoffMaxDelayMs, random),
      );
      return { step: 'retry', error: error(verdict.reason), retryInMs };
    }
  }
}
