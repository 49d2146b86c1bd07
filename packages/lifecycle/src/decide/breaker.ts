import type { Classification } from '@leadrouter/delivery';
import type { AttemptDecision } from './attempt.js';

/**
 * What an attempt does to its partner's circuit breaker:
 * - `pause`: the partner said it is gone (410): paused at once, with `reason`;
 * - `count_failure`: a failed attempt counts against the partner; the
 *   failure that reaches its `pauseAfterFailures` pauses it, `error` being
 *   the last one. The count is the database's, shared by every worker, so
 *   whether this failure is the one that trips the breaker is settled where
 *   it is counted (one statement, under the partner's row lock);
 * - `reset`: a real answer (accepted or rejected) after failures clears the count;
 * - `none`: a real answer with no failures to clear — nothing to write.
 */
export type BreakerDecision =
  | { action: 'pause'; reason: string }
  | { action: 'count_failure'; error: string }
  | { action: 'reset' }
  | { action: 'none' };

/**
 * The circuit breaker's decision for one attempt. A failure is a 5xx, a
 * timeout, a connection error or a redirect (`retry` or `dead_lettered`);
 * `consecutiveFailures` is the count as read with the partner before the
 * attempt (a failure recorded meanwhile by another worker then stays
 * counted, one step nearer a pause).
 */
export function decideBreaker(
  verdict: Classification,
  attempt: AttemptDecision,
  consecutiveFailures: number,
): BreakerDecision {
  if (verdict.outcome === 'rejected' && verdict.pausePartner) return { action: 'pause', reason: verdict.reason };
  switch (attempt.step) {
    case 'accepted':
    case 'rejected':
      return consecutiveFailures === 0 ? { action: 'none' } : { action: 'reset' };
    case 'retry':
    case 'dead_lettered':
      return { action: 'count_failure', error: attempt.error };
  }
}
