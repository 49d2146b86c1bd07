import type { DeliveryStatus, LeadStatus } from '@leadrouter/core';
import { decideRequeues, type RequeueCandidate, type RequeueLead } from './requeue';

const dead = (id: string, leadId = 'L', extra: Partial<RequeueCandidate> = {}): RequeueCandidate => ({
  id,
  leadId,
  status: 'dead_lettered',
  partnerActive: true,
  partnerPaused: false,
  ...extra,
});
const lead = (extra: Partial<RequeueLead> = {}): RequeueLead => ({
  status: 'dead_lettered',
  accepted: 0,
  pending: 0,
  maxDeliveries: 1,
  ...extra,
});
const decide = (candidates: RequeueCandidate[], leads: Record<string, RequeueLead>) =>
  decideRequeues(candidates, new Map(Object.entries(leads))).map(({ candidate, decision }) => [candidate.id, decision]);

describe('decideRequeues: which dead letters an operator’s retry puts back', () => {
  it('requeues a dead letter of a lead with room left, reopening a lead that had settled unsold', () => {
    for (const status of ['dead_lettered', 'unsold', 'unmatched'] as LeadStatus[])
      expect(decide([dead('a')], { L: lead({ status }) })).toEqual([['a', { outcome: 'requeue', reopensLead: true }]]);
    for (const status of ['routing', 'delivered'] as LeadStatus[])
      expect(
        decide([dead('a')], { L: lead({ status, maxDeliveries: 2, accepted: status === 'delivered' ? 1 : 0 }) }),
      ).toEqual([['a', { outcome: 'requeue', reopensLead: false }]]);
  });

  it('refuses what is no dead letter any more, saying what it is now', () => {
    for (const status of ['pending', 'accepted', 'rejected'] as DeliveryStatus[])
      expect(decide([dead('a', 'L', { status })], { L: lead() })).toEqual([
        ['a', { outcome: 'skip', reason: 'not_dead_lettered', deliveryStatus: status }],
      ]);
  });

  it('refuses a superseded dead letter as sold, whatever the counts say now', () => {
    expect(decide([dead('a', 'L', { status: 'superseded' })], { L: lead({ maxDeliveries: 3 }) })).toEqual([
      ['a', { outcome: 'skip', reason: 'sold', deliveryStatus: 'superseded' }],
    ]);
  });

  it('never requeues a dead letter of a lead whose personal data was erased: nothing is left to send', () => {
    expect(decide([dead('a')], { L: lead({ erased: true }) })).toEqual([
      ['a', { outcome: 'skip', reason: 'personal_data_erased' }],
    ]);
  });

  it('refuses while the partner is inactive or paused (inactive said first)', () => {
    expect(decide([dead('a', 'L', { partnerActive: false, partnerPaused: true })], { L: lead() })).toEqual([
      ['a', { outcome: 'skip', reason: 'partner_inactive' }],
    ]);
    expect(decide([dead('a', 'L', { partnerPaused: true })], { L: lead() })).toEqual([
      ['a', { outcome: 'skip', reason: 'partner_paused' }],
    ]);
  });

  it('never sells a lead more often than its route allows: sold when the share is taken, busy while in flight', () => {
    expect(decide([dead('a')], { L: lead({ status: 'delivered', accepted: 1 }) })).toEqual([
      ['a', { outcome: 'skip', reason: 'sold' }],
    ]);
    expect(decide([dead('a')], { L: lead({ status: 'routing', pending: 1 }) })).toEqual([
      ['a', { outcome: 'skip', reason: 'busy' }],
    ]);
    expect(decide([dead('a')], { L: lead({ status: 'routing', maxDeliveries: 2, accepted: 1, pending: 1 }) })).toEqual([
      ['a', { outcome: 'skip', reason: 'busy' }],
    ]);
  });

  it('counts those requeued earlier in the same batch, and reopens a lead once', () => {
    const exclusive = decide([dead('a'), dead('b')], { L: lead() });
    expect(exclusive).toEqual([
      ['a', { outcome: 'requeue', reopensLead: true }],
      ['b', { outcome: 'skip', reason: 'busy' }],
    ]);
    const shared = decide([dead('a'), dead('b'), dead('c'), dead('x', 'M')], {
      L: lead({ maxDeliveries: 2 }),
      M: lead(),
    });
    expect(shared).toEqual([
      ['a', { outcome: 'requeue', reopensLead: true }],
      ['b', { outcome: 'requeue', reopensLead: false }],
      ['c', { outcome: 'skip', reason: 'busy' }],
      ['x', { outcome: 'requeue', reopensLead: true }],
    ]);
  });

  it('reads a lead whose record does not say how many may buy it as exclusive', () => {
    for (const maxDeliveries of [undefined, 0, 2.5])
      expect(decide([dead('a'), dead('b')], { L: lead({ maxDeliveries }) })).toEqual([
        ['a', { outcome: 'requeue', reopensLead: true }],
        ['b', { outcome: 'skip', reason: 'busy' }],
      ]);
  });
});
