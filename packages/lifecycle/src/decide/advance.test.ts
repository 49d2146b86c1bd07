import { DELIVERY_STATUSES, type DeliveryStatus, type PartnerDecisionEntry } from '@leadrouter/core';
import fc from 'fast-check';
import { decideFinalStatus, decideOffers, decideUnreadableRecord, type DeliveryCount } from './advance';

const at = '2026-01-01T00:00:00.000Z';
const d = (partnerId: string, status: DeliveryStatus): DeliveryCount => ({ partnerId, status });
const record = (maxDeliveries: number, candidates: string[], decisions: PartnerDecisionEntry[] = []) => ({
  maxDeliveries,
  candidates,
  decisions,
});

describe('decideOffers: the waterfall', () => {
  it('offers a new lead to as many of its first candidates as may buy it', () => {
    expect(decideOffers(record(1, ['a', 'b', 'c']), [])).toEqual({
      outcome: 'offer',
      need: 1,
      untried: ['a', 'b', 'c'],
    });
    expect(decideOffers(record(2, ['a', 'b', 'c']), [])).toEqual({
      outcome: 'offer',
      need: 2,
      untried: ['a', 'b', 'c'],
    });
  });

  it('passes a rejected or dead-lettered lead to the next candidate, never back to one tried', () => {
    expect(decideOffers(record(1, ['a', 'b', 'c']), [d('a', 'rejected')])).toEqual({
      outcome: 'offer',
      need: 1,
      untried: ['b', 'c'],
    });
    expect(decideOffers(record(1, ['a', 'b', 'c']), [d('a', 'rejected'), d('b', 'dead_lettered')])).toEqual({
      outcome: 'offer',
      need: 1,
      untried: ['c'],
    });
  });

  it('does not offer a candidate the record has a decision for (skipped when its turn came)', () => {
    const skipped: PartnerDecisionEntry = { partnerId: 'b', decision: 'skipped', reason: 'daily cap of 2 reached', at };
    expect(decideOffers(record(1, ['a', 'b', 'c'], [skipped]), [d('a', 'rejected')])).toEqual({
      outcome: 'offer',
      need: 1,
      untried: ['c'],
    });
  });

  it('offers no one while as many partners buy or are offered the lead as its route allows', () => {
    expect(decideOffers(record(1, ['a', 'b']), [d('a', 'pending')])).toEqual({ outcome: 'none', why: 'share_taken' });
    expect(decideOffers(record(1, ['a', 'b']), [d('a', 'accepted')])).toEqual({ outcome: 'none', why: 'share_taken' });
    expect(decideOffers(record(2, ['a', 'b', 'c']), [d('a', 'accepted'), d('b', 'pending')])).toEqual({
      outcome: 'none',
      why: 'share_taken',
    });
    // More than the share (an operator retry raced a sale): still no one, and no negative need.
    expect(decideOffers(record(1, ['a', 'b', 'c']), [d('a', 'accepted'), d('b', 'pending')])).toEqual({
      outcome: 'none',
      why: 'share_taken',
    });
  });

  it('fills what is left of a shared lead’s share', () => {
    expect(decideOffers(record(3, ['a', 'b', 'c', 'e']), [d('a', 'accepted'), d('b', 'rejected')])).toEqual({
      outcome: 'offer',
      need: 2,
      untried: ['c', 'e'],
    });
  });

  it('offers no one once every candidate was tried, or when there were none (unmatched)', () => {
    expect(decideOffers(record(1, ['a']), [d('a', 'rejected')])).toEqual({
      outcome: 'none',
      why: 'no_candidates_left',
    });
    expect(decideOffers(record(0, []), [])).toEqual({ outcome: 'none', why: 'share_taken' });
    expect(decideOffers(record(1, []), [])).toEqual({ outcome: 'none', why: 'no_candidates_left' });
  });
});

describe('decideFinalStatus: where the lead stands once offered to whom it could be', () => {
  it('stays open while a delivery is pending or one was just offered', () => {
    expect(decideFinalStatus([d('a', 'pending')], 0)).toEqual({ outcome: 'open' });
    expect(decideFinalStatus([d('a', 'accepted'), d('b', 'pending')], 0)).toEqual({ outcome: 'open' });
    expect(decideFinalStatus([d('a', 'rejected')], 1)).toEqual({ outcome: 'open' });
    expect(decideFinalStatus([], 1)).toEqual({ outcome: 'open' });
  });

  it('is delivered when a partner accepted, naming the first that did', () => {
    expect(decideFinalStatus([d('a', 'rejected'), d('b', 'accepted'), d('c', 'accepted')], 0)).toEqual({
      outcome: 'delivered',
      partnerId: 'b',
    });
  });

  it('is delivered for a shared lead sold once and dead-lettered elsewhere, in either order', () => {
    for (const deliveries of [
      [d('a', 'accepted'), d('b', 'dead_lettered')],
      [d('b', 'dead_lettered'), d('a', 'accepted')],
    ])
      expect(decideFinalStatus(deliveries, 0)).toEqual({ outcome: 'delivered', partnerId: 'a' });
  });

  it('is delivered when the sale superseded the lead’s dead letters', () => {
    expect(decideFinalStatus([d('a', 'superseded'), d('b', 'accepted')], 0)).toEqual({
      outcome: 'delivered',
      partnerId: 'b',
    });
  });

  it('is dead_lettered when nothing sold and a delivery ran out of attempts, even if others rejected', () => {
    expect(decideFinalStatus([d('a', 'rejected'), d('b', 'dead_lettered')], 0)).toEqual({ outcome: 'dead_lettered' });
  });

  it('is unsold when every partner offered the lead rejected it', () => {
    expect(decideFinalStatus([d('a', 'rejected'), d('b', 'rejected')], 0)).toEqual({ outcome: 'unsold' });
  });

  it('is unmatched when no partner was offered the lead', () => {
    expect(decideFinalStatus([], 0)).toEqual({ outcome: 'unmatched' });
  });

  it('follows the precedence delivered > dead_lettered > unsold > unmatched for any mix of settled deliveries', () => {
    const settled = DELIVERY_STATUSES.filter((s) => s !== 'pending');
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...settled), { maxLength: 8 }), (statuses) => {
        const deliveries = statuses.map((s, i) => d(`p${i}`, s));
        const expected = statuses.includes('accepted')
          ? 'delivered'
          : statuses.includes('dead_lettered')
            ? 'dead_lettered'
            : statuses.includes('rejected')
              ? 'unsold'
              : 'unmatched';
        expect(decideFinalStatus(deliveries, 0).outcome).toBe(expected);
      }),
    );
  });
});

describe('decideUnreadableRecord: a routing lead whose record cannot be read', () => {
  it('stays open while a delivery is pending', () => {
    expect(decideUnreadableRecord([d('a', 'pending')])).toEqual({ outcome: 'open' });
    expect(decideUnreadableRecord([d('a', 'accepted'), d('b', 'pending')])).toEqual({ outcome: 'open' });
  });

  it('is delivered when a partner accepted it, dead-lettered elsewhere or not', () => {
    expect(decideUnreadableRecord([d('a', 'accepted')])).toEqual({ outcome: 'delivered', partnerId: 'a' });
    expect(decideUnreadableRecord([d('b', 'dead_lettered'), d('a', 'accepted')])).toEqual({
      outcome: 'delivered',
      partnerId: 'a',
    });
  });

  it('is dead-lettered otherwise: never unsold nor unmatched, which only a readable record can tell', () => {
    for (const deliveries of [[], [d('a', 'rejected')], [d('a', 'dead_lettered')], [d('a', 'superseded')]])
      expect(decideUnreadableRecord(deliveries)).toEqual({ outcome: 'dead_lettered' });
  });

  it('settles as the final status would, except that what is neither open nor sold is dead-lettered', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ partnerId: fc.constantFrom('a', 'b', 'c'), status: fc.constantFrom(...DELIVERY_STATUSES) }),
        ),
        (deliveries) => {
          const final = decideFinalStatus(deliveries, 0);
          const settled = decideUnreadableRecord(deliveries);
          if (final.outcome === 'open' || final.outcome === 'delivered') expect(settled).toEqual(final);
          else expect(settled).toEqual({ outcome: 'dead_lettered' });
        },
      ),
    );
  });
});
