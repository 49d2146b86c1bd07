import { readRoutingRecord, ROUTING_RECORD_VERSION, type RoutingRecord } from './routing-record';

const written: RoutingRecord = {
  version: ROUTING_RECORD_VERSION,
  routeId: '3f1c0a52-8f0e-4a53-9d3e-0b1f4f6f2a10',
  routeName: 'main',
  strategy: 'priority',
  maxDeliveries: 2,
  candidates: ['a', 'b', 'c'],
  decisions: [
    { partnerId: 'x', decision: 'skipped', reason: 'partner is paused', at: '2026-01-01T00:00:00.000Z' },
    { partnerId: 'a', decision: 'accepted', at: '2026-01-01T00:00:01.000Z' },
  ],
  filterErrors: ['route other: fields.code: the pattern does not compile'],
};

/** As PostgreSQL hands it back: parsed from JSON text. */
const stored = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe('readRoutingRecord: leads.routing as stored, read back', () => {
  it('reads a record as the worker writes it, unchanged', () => {
    expect(readRoutingRecord(stored(written))).toEqual({ kind: 'record', record: written });
  });

  it('reads an unmatched lead’s record: no route, no candidates, a reason', () => {
    const unmatched = {
      version: 1,
      maxDeliveries: 0,
      candidates: [],
      reason: 'no active route matches the lead',
      decisions: [],
    };
    expect(readRoutingRecord(stored(unmatched))).toEqual({ kind: 'record', record: unmatched });
  });

  it('is none before the lead is routed (NULL)', () => {
    expect(readRoutingRecord(null)).toEqual({ kind: 'none' });
    expect(readRoutingRecord(undefined)).toEqual({ kind: 'none' });
  });

  it('reads a record written before records had a version as version 1', () => {
    const { version: _, ...old } = written;
    expect(readRoutingRecord(stored(old))).toEqual({ kind: 'record', record: written });
  });

  it('ignores fields it does not know (added since, compatibly)', () => {
    const read = readRoutingRecord(stored({ ...written, note: 'added later' }));
    expect(read.kind).toBe('record');
  });

  it('refuses a record of a newer version, saying so', () => {
    expect(readRoutingRecord(stored({ ...written, version: 2 }))).toEqual({
      kind: 'unreadable',
      reason: 'the routing record is version 2, newer than this leadrouter reads (1)',
    });
  });

  it('refuses a version it has never known', () => {
    for (const version of [0, '1', 1.5, null]) {
      const read = readRoutingRecord({ ...written, version });
      expect(read).toEqual({
        kind: 'unreadable',
        reason: `the routing record's version ${JSON.stringify(version)} is not one leadrouter knows`,
      });
    }
  });

  it('refuses what is not an object', () => {
    expect(readRoutingRecord([])).toEqual({
      kind: 'unreadable',
      reason: 'the routing record is an array, not an object',
    });
    expect(readRoutingRecord('{}')).toEqual({
      kind: 'unreadable',
      reason: 'the routing record is string, not an object',
    });
  });

  it('names every problem of a record it did not write, without throwing', () => {
    const bad = {
      ...written,
      maxDeliveries: 'two',
      candidates: undefined,
      decisions: [{ partnerId: 'a', decision: 'sold', at: '2026-01-01T00:00:00.000Z' }],
    };
    const read = readRoutingRecord(stored(bad));
    expect(read.kind).toBe('unreadable');
    if (read.kind !== 'unreadable') return;
    expect(read.reason).toMatch(/^the routing record is not one leadrouter wrote: /);
    expect(read.reason).toContain('/candidates is required');
    expect(read.reason).toContain('/maxDeliveries must be integer');
    expect(read.reason).toContain(
      '/decisions/0/decision must be one of "skipped", "offered", "accepted", "rejected", "dead_lettered"',
    );
  });
});
