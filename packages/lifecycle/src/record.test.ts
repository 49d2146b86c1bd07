import { readRoutingRecord } from '@leadrouter/core';
import type { RouteDecision } from '@leadrouter/routing';
import { routingRecordOf } from './record';

const now = new Date('2026-01-01T00:00:00.000Z');

describe('routingRecordOf: the routing record a lead starts with', () => {
  it('holds a matched decision, the candidates passed over and why, and reads back as it was written', () => {
    const decision: RouteDecision = {
      outcome: 'matched',
      routeId: 'r1',
      routeName: 'main',
      maxDeliveries: 2,
      candidates: ['a', 'b'],
      skipped: [
        { partnerId: 'x', reason: 'paused' },
        { partnerId: 'y', reason: 'filter', detail: 'geo is "CA", not one of ["US"]' },
      ],
      filterErrors: ['route other: the pattern does not compile'],
    };
    const record = routingRecordOf(decision, 'round_robin', now);
    expect(record).toEqual({
      version: 1,
      routeId: 'r1',
      routeName: 'main',
      strategy: 'round_robin',
      maxDeliveries: 2,
      candidates: ['a', 'b'],
      decisions: [
        { partnerId: 'x', decision: 'skipped', reason: 'partner is paused', at: now.toISOString() },
        {
          partnerId: 'y',
          decision: 'skipped',
          reason: 'partner filters do not match: geo is "CA", not one of ["US"]',
          at: now.toISOString(),
        },
      ],
      filterErrors: ['route other: the pattern does not compile'],
    });
    expect(readRoutingRecord(JSON.parse(JSON.stringify(record)))).toEqual({ kind: 'record', record });
  });

  it('holds an unmatched decision: no candidates, no one may buy the lead, and why', () => {
    const noRoute = routingRecordOf(
      { outcome: 'unmatched', reason: 'no active route matches the lead', skipped: [] },
      undefined,
      now,
    );
    expect(noRoute).toEqual({
      version: 1,
      maxDeliveries: 0,
      candidates: [],
      reason: 'no active route matches the lead',
      decisions: [],
    });
    const noPartner = routingRecordOf(
      {
        outcome: 'unmatched',
        reason: 'no eligible partner on the route',
        routeId: 'r1',
        routeName: 'main',
        skipped: [{ partnerId: 'x', reason: 'missing' }],
      },
      'priority',
      now,
    );
    expect(noPartner).toMatchObject({
      routeId: 'r1',
      routeName: 'main',
      strategy: 'priority',
      maxDeliveries: 0,
      decisions: [{ partnerId: 'x', decision: 'skipped', reason: 'partner no longer exists' }],
    });
    for (const record of [noRoute, noPartner])
      expect(readRoutingRecord(JSON.parse(JSON.stringify(record)))).toEqual({ kind: 'record', record });
  });
});
