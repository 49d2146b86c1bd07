import type { DeliveryStatus } from '@leadrouter/core';
import { supersededDeadLetters } from './lead-flow';

describe('supersededDeadLetters: the dead letters a lead can no longer use', () => {
  const d = (id: string, status: DeliveryStatus) => ({ id, status });

  it('supersedes every dead letter of a lead sold exclusively', () => {
    expect(supersededDeadLetters([d('a', 'dead_lettered'), d('b', 'dead_lettered'), d('c', 'accepted')], 1)).toEqual([
      'a',
      'b',
    ]);
  });

  it('keeps them while a shared lead has room left: a retry may still fill the share', () => {
    const deliveries = [d('a', 'dead_lettered'), d('b', 'accepted'), d('c', 'rejected')];
    expect(supersededDeadLetters(deliveries, 2)).toEqual([]);
    expect(supersededDeadLetters([...deliveries, d('e', 'accepted')], 2)).toEqual(['a']);
  });

  it('keeps them while nothing is sold, and touches nothing but dead letters', () => {
    expect(supersededDeadLetters([d('a', 'dead_lettered'), d('b', 'pending')], 1)).toEqual([]);
    expect(
      supersededDeadLetters([d('a', 'accepted'), d('b', 'rejected'), d('c', 'superseded'), d('e', 'pending')], 1),
    ).toEqual([]);
  });

  it('reads a maxDeliveries that is not a whole number >= 1 as exclusive, as the operations do', () => {
    for (const max of [0, 1.5, NaN, undefined as unknown as number])
      expect({ max, superseded: supersededDeadLetters([d('a', 'dead_lettered'), d('b', 'accepted')], max) }).toEqual({
        max,
        superseded: ['a'],
      });
  });
});
