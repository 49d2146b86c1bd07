import type { Classification } from '@leadrouter/delivery';
import { decideAttempt, type AttemptInput } from './attempt';

const policy = { maxAttempts: 3, backoffDelayMs: 1_000, backoffMaxDelayMs: 60_000 };
const input = (verdict: Classification, extra: Partial<AttemptInput> = {}): AttemptInput => ({
  verdict,
  attemptInRound: 1,
  policy,
  random: () => 0.5,
  ...extra,
});

describe('decideAttempt: the retry / dead-letter verdict of one attempt', () => {
  it('accepts an accepted answer, with no error', () => {
    expect(decideAttempt(input({ outcome: 'accepted' }))).toEqual({ step: 'accepted' });
  });

  it('rejects a rejection, with the partner’s own reason when it gave one', () => {
    expect(decideAttempt(input({ outcome: 'rejected', reason: 'HTTP 400' }))).toEqual({
      step: 'rejected',
      error: 'HTTP 400',
    });
    expect(decideAttempt(input({ outcome: 'rejected', reason: 'HTTP 400' }, { answerReason: 'duplicate' }))).toEqual({
      step: 'rejected',
      error: 'HTTP 400: duplicate',
    });
  });

  it('retries a failure after exponential backoff with jitter', () => {
    const failure: Classification = { outcome: 'retry', reason: 'HTTP 503' };
    // random 0.5: three quarters of delayMs · 2^(attempt-1)
    expect(decideAttempt(input(failure, { attemptInRound: 1 }))).toEqual({
      step: 'retry',
      error: 'HTTP 503',
      retryInMs: 750,
    });
    expect(decideAttempt(input(failure, { attemptInRound: 2 }))).toEqual({
      step: 'retry',
      error: 'HTTP 503',
      retryInMs: 1_500,
    });
  });

  it('retries after the partner’s Retry-After, but never later than backoffMaxDelayMs', () => {
    expect(decideAttempt(input({ outcome: 'retry', reason: 'HTTP 429', retryAfterMs: 5_000 }))).toMatchObject({
      step: 'retry',
      retryInMs: 5_000,
    });
    expect(decideAttempt(input({ outcome: 'retry', reason: 'HTTP 429', retryAfterMs: 3_600_000 }))).toMatchObject({
      step: 'retry',
      retryInMs: 60_000,
    });
    expect(decideAttempt(input({ outcome: 'retry', reason: 'HTTP 429', retryAfterMs: 0 }))).toMatchObject({
      step: 'retry',
      retryInMs: 0,
    });
  });

  it('dead-letters the failure of the round’s last attempt, and of any attempt past it', () => {
    for (const attemptInRound of [3, 4])
      expect(decideAttempt(input({ outcome: 'retry', reason: 'ETIMEDOUT: timeout' }, { attemptInRound }))).toEqual({
        step: 'dead_lettered',
        error: 'ETIMEDOUT: timeout',
      });
    // A rejection on the last attempt is a rejection.
    expect(decideAttempt(input({ outcome: 'rejected', reason: 'HTTP 422' }, { attemptInRound: 3 }))).toEqual({
      step: 'rejected',
      error: 'HTTP 422',
    });
  });

  it('keeps the error as storable text of at most 1,000 characters', () => {
    const decision = decideAttempt(input({ outcome: 'rejected', reason: `result is "a\u0000b${'x'.repeat(2_000)}"` }));
    expect(decision.step).toBe('rejected');
    if (decision.step !== 'rejected') return;
    expect(decision.error).not.toContain('\u0000');
    expect(decision.error.length).toBeLessThanOrEqual(1_000);
    expect(decision.error.startsWith('result is "a')).toBe(true);
  });
});
