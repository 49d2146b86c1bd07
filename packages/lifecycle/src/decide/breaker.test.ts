import type { Classification } from '@leadrouter/delivery';
import type { AttemptDecision } from './attempt';
import { decideBreaker } from './breaker';

const accepted: [Classification, AttemptDecision] = [{ outcome: 'accepted' }, { step: 'accepted' }];
const rejected: [Classification, AttemptDecision] = [
  { outcome: 'rejected', reason: 'HTTP 400' },
  { step: 'rejected', error: 'HTTP 400' },
];
const retry: [Classification, AttemptDecision] = [
  { outcome: 'retry', reason: 'HTTP 503' },
  { step: 'retry', error: 'HTTP 503', retryInMs: 1_000 },
];
const exhausted: [Classification, AttemptDecision] = [
  { outcome: 'retry', reason: 'ECONNREFUSED: connect' },
  { step: 'dead_lettered', error: 'ECONNREFUSED: connect' },
];
const gone: [Classification, AttemptDecision] = [
  { outcome: 'rejected', reason: 'HTTP 410 Gone: partner paused', pausePartner: true },
  { step: 'rejected', error: 'HTTP 410 Gone: partner paused' },
];

describe('decideBreaker: what an attempt does to its partner’s circuit breaker', () => {
  it('counts every failed attempt, retried or dead-lettered, with its error', () => {
    for (const failures of [0, 4]) {
      expect(decideBreaker(...retry, failures)).toEqual({ action: 'count_failure', error: 'HTTP 503' });
      expect(decideBreaker(...exhausted, failures)).toEqual({
        action: 'count_failure',
        error: 'ECONNREFUSED: connect',
      });
    }
  });

  it('clears the count on a real answer after failures, accepted or rejected', () => {
    expect(decideBreaker(...accepted, 2)).toEqual({ action: 'reset' });
    expect(decideBreaker(...rejected, 1)).toEqual({ action: 'reset' });
  });

  it('writes nothing for a real answer from a partner with no failures (the common case)', () => {
    expect(decideBreaker(...accepted, 0)).toEqual({ action: 'none' });
    expect(decideBreaker(...rejected, 0)).toEqual({ action: 'none' });
  });

  it('pauses the partner at once on a 410 Gone, whatever its count', () => {
    for (const failures of [0, 3])
      expect(decideBreaker(...gone, failures)).toEqual({ action: 'pause', reason: 'HTTP 410 Gone: partner paused' });
  });
});
