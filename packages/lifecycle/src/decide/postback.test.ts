import { decidePostback, POSTBACK_POLICY } from './postback';

const random = () => 0.5;

describe('decidePostback: the retry verdict of one postback attempt', () => {
  it('is delivered on an accepted answer', () => {
    expect(decidePostback({ outcome: 'accepted' }, 1, random)).toEqual({ step: 'delivered' });
  });

  it('fails at once when the source refuses it', () => {
    expect(decidePostback({ outcome: 'rejected', reason: 'HTTP 400' }, 1, random)).toEqual({
      step: 'failed',
      error: 'HTTP 400',
    });
  });

  it('retries a failure after exponential backoff with jitter, then fails on the last attempt', () => {
    const failure = { outcome: 'retry', reason: 'HTTP 503' } as const;
    expect(decidePostback(failure, 1, random)).toEqual({ step: 'retry', error: 'HTTP 503', retryInMs: 750 });
    expect(decidePostback(failure, 3, random)).toEqual({ step: 'retry', error: 'HTTP 503', retryInMs: 3_000 });
    expect(decidePostback(failure, POSTBACK_POLICY.maxAttempts, random)).toEqual({
      step: 'failed',
      error: 'HTTP 503',
    });
  });

  it('waits what the source’s Retry-After asks, never longer than the policy’s longest wait', () => {
    expect(decidePostback({ outcome: 'retry', reason: 'HTTP 429', retryAfterMs: 5_000 }, 1, random)).toEqual({
      step: 'retry',
      error: 'HTTP 429',
      retryInMs: 5_000,
    });
    expect(decidePostback({ outcome: 'retry', reason: 'HTTP 429', retryAfterMs: 10 * 3_600_000 }, 1, random).step).toBe(
      'retry',
    );
    const capped = decidePostback({ outcome: 'retry', reason: 'HTTP 429', retryAfterMs: 10 * 3_600_000 }, 1, random);
    expect(capped.step === 'retry' && capped.retryInMs).toBe(POSTBACK_POLICY.maxDelayMs);
  });

  it('keeps the reason as storable text of at most 1,000 characters', () => {
    const decision = decidePostback({ outcome: 'retry', reason: `x\u0000${'y'.repeat(2_000)}` }, 1, random);
    expect(decision.step === 'retry' && decision.error.length).toBeLessThanOrEqual(1_000);
    expect(decision.step === 'retry' && decision.error.includes('\u0000')).toBe(false);
  });
});
