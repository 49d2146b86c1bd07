import type { DeliveryStatus } from '@leadrouter/core';
import { decideSupersede, saleLimit } from './superseded';

const d = (id: string, status: DeliveryStatus) => ({ id, status });

describe('decideSupersede: the dead letters a lead can no longer use', () => {
  it('supersedes every dead letter of a lead sold exclusively', () => {
    expect(decideSupersede([d('a', 'dead_lettered'), d('b', 'dead_lettered'), d('c', 'accepted')], 1)).toEqual({
      outcome: 'supersede',
      deliveryIds: ['a', 'b'],
    });
  });

  it('keeps them while a shared lead has room left: a retry may still fill the share', () => {
    const deliveries = [d('a', 'dead_lettered'), d('b', 'accepted'), d('c', 'rejected')];
    expect(decideSupersede(deliveries, 2)).toEqual({ outcome: 'keep', why: 'room_left' });
    expect(decideSupersede([...deliveries, d('e', 'accepted')], 2)).toEqual({
      outcome: 'supersede',
      deliveryIds: ['a'],
    });
  });

  it('keeps them while nothing is sold, and touches nothing but dead letters', () => {
    expect(decideSupersede([d('a', 'dead_lettered'), d('b', 'pending')], 1)).toEqual({
      outcome: 'keep',
      why: 'room_left',
    });
    expect(
      decideSupersede([d('a', 'accepted'), d('b', 'rejected'), d('c', 'superseded'), d('e', 'pending')], 1),
    ).toEqual({ outcome: 'keep', why: 'no_dead_letters' });
  });

  it('reads a maxDeliveries that is not a whole number >= 1 as exclusive, as the operations do', () => {
    for (const max of [0, 1.5, NaN, -2, undefined])
      expect({ max, decision: decideSupersede([d('a', 'dead_lettered'), d('b', 'accepted')], max) }).toEqual({
        max,
        decision: { outcome: 'supersede', deliveryIds: ['a'] },
      });
  });
});

describe('saleLimit', () => {
  it('is the recorded maxDeliveries when a whole number >= 1, else 1 (exclusive)', () => {
    expect([1, 2, 100].map(saleLimit)).toEqual([1, 2, 100]);
    expect([0, -1, 2.5, NaN, Infinity, undefined].map(saleLimit)).toEqual([1, 1, 1, 1, 1, 1]);
  });
});
