import type { LeadStatus } from '@leadrouter/core';
import { decideErasure } from './erasure';

describe('decideErasure: what an operator’s erasure of one lead does', () => {
  it('erases a settled lead, whatever its final status', () => {
    for (const status of ['delivered', 'unsold', 'unmatched', 'dead_lettered', 'converted', 'returned'] as LeadStatus[])
      expect(decideErasure({ status, erasedAt: null, pending: false })).toEqual({ outcome: 'erase' });
  });

  it('waits while the lead is being delivered: queued, routing, or a retried dead letter pending', () => {
    for (const status of ['queued', 'routing'] as LeadStatus[])
      expect(decideErasure({ status, erasedAt: null, pending: false })).toEqual({ outcome: 'in_flight', status });
    expect(decideErasure({ status: 'delivered', erasedAt: null, pending: true })).toEqual({
      outcome: 'in_flight',
      status: 'delivered',
    });
  });

  it('does nothing more to a lead erased before, saying when', () => {
    const at = new Date('2031-01-02T03:04:05.678Z');
    expect(decideErasure({ status: 'delivered', erasedAt: at, pending: false })).toEqual({
      outcome: 'already_erased',
      at,
    });
  });
});
