import { formatAmount } from './amount.js';
import {
  mapStatus,
  parseStatusMap,
  parseStatusPullItem,
  statusChange,
  statusPullItems,
  type StatusMap,
  type StatusPullPaths,
} from './status.js';

function statusMap(value: unknown): StatusMap {
  const parsed = parseStatusMap(value);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.map;
}

describe('a partner statusMap', () => {
  const map = statusMap({ Deposit: 'converted', 'Invalid number': 'returned', Chargeback: 'reversed' });

  test('maps raw statuses case-insensitively, ignoring surrounding space', () => {
    expect(mapStatus(map, 'Deposit')).toBe('converted');
    expect(mapStatus(map, 'DEPOSIT')).toBe('converted');
    expect(mapStatus(map, ' invalid NUMBER ')).toBe('returned');
    expect(mapStatus(map, 'chargeback')).toBe('reversed');
    expect(mapStatus(map, 'Contacted')).toBeNull();
    expect(mapStatus(statusMap(null), 'Deposit')).toBeNull();
  });

  test('is checked whole when saved', () => {
    expect(parseStatusMap({ Deposit: 'converted', deposit: 'returned', 'a/b': 'sold', '  ': 'returned' })).toEqual({
      ok: false,
      errors: [
        { field: '/statusMap/deposit', message: 'is the same status as "Deposit" (case is ignored)' },
        { field: '/statusMap/a~1b', message: 'must be one of "converted", "returned", "reversed"' },
        { field: '/statusMap/  ', message: 'must be a status of 1 to 200 characters' },
      ],
    });
    expect(parseStatusMap(['Deposit'])).toEqual({
      ok: false,
      errors: [{ field: '/statusMap', message: 'must be an object of statuses to events' }],
    });
  });
});

describe('a status event', () => {
  const map = statusMap({ Deposit: 'converted', FTD: 'converted', 'Invalid number': 'returned', Refund: 'reversed' });
  const change = (previous: string | null, status: string, converted = false) =>
    statusChange({ previous, status, map, converted });

  test('does what its status maps to', () => {
    expect(change(null, 'Deposit')).toEqual({ effect: 'converted' });
    expect(change('New', 'Invalid number')).toEqual({ effect: 'returned' });
    expect(change('New', 'Refund')).toEqual({ effect: 'reversed' });
  });

  test('adds nothing when the status is unchanged or unmapped', () => {
    expect(change('Deposit', 'deposit')).toEqual({ effect: 'none', why: 'unchanged' });
    expect(change(null, 'Contacted')).toEqual({ effect: 'none', why: 'unmapped' });
    expect(change('Deposit', 'Contacted', true)).toEqual({ effect: 'none', why: 'unmapped' });
  });

  test('reverses a converted sale whose status now maps to something else', () => {
    expect(change('Deposit', 'Invalid number', true)).toEqual({ effect: 'reversed' });
    expect(change('Deposit', 'Refund', true)).toEqual({ effect: 'reversed' });
    expect(change('Deposit', 'FTD', true)).toEqual({ effect: 'none', why: 'already_converted' });
  });
});

describe('a status-pull page', () => {
  const paths: StatusPullPaths = {
    itemsPath: 'data.items',
    referencePath: 'lead_id',
    statusPath: 'state.name',
    amountPath: 'payout',
    atPath: 'updated_at',
  };

  test('has its items where itemsPath says', () => {
    expect(statusPullItems({ data: { items: [1, 2] } }, paths)).toEqual([1, 2]);
    expect(statusPullItems({ data: { items: {} } }, paths)).toBeNull();
    expect(statusPullItems('<html>', paths)).toBeNull();
  });

  test('items are read through the partner paths', () => {
    const parsed = parseStatusPullItem(
      { lead_id: 'ref-9', state: { name: 'Deposit' }, payout: '40.25', updated_at: '2026-12-01T10:00:00Z' },
      paths,
    );
    expect(parsed).toEqual({
      ok: true,
      item: { reference: 'ref-9', status: 'Deposit', amount: expect.anything(), at: new Date('2026-12-01T10:00:00Z') },
    });
    if (parsed.ok) expect(formatAmount(parsed.item.amount!)).toBe('40.2500');

    expect(parseStatusPullItem({ lead_id: 1234, state: { name: 'New' } }, paths)).toEqual({
      ok: true,
      item: { reference: '1234', status: 'New', amount: null, at: null },
    });
    const minimal = { itemsPath: 'data', referencePath: 'id', statusPath: 'status' };
    expect(parseStatusPullItem({ id: 'x', status: 'New', payout: 'junk' }, minimal)).toMatchObject({ ok: true });
  });

  test('an item that cannot be read says why', () => {
    const item = (over: Record<string, unknown>) => ({ lead_id: 'r', state: { name: 'New' }, ...over });
    expect(parseStatusPullItem(item({ lead_id: null }), paths)).toEqual({
      ok: false,
      error: 'lead_id: no reference of 1 to 200 characters',
    });
    expect(parseStatusPullItem(item({ lead_id: 1.5 }), paths)).toMatchObject({ ok: false });
    expect(parseStatusPullItem(item({ state: { name: '' } }), paths)).toEqual({
      ok: false,
      error: 'state.name: no status of 1 to 200 characters',
    });
    expect(parseStatusPullItem(item({ payout: 0.1 + 0.2 }), paths)).toEqual({
      ok: false,
      error: 'payout: the amount must have at most 4 decimal places',
    });
    expect(parseStatusPullItem(item({ updated_at: 'yesterday' }), paths)).toEqual({
      ok: false,
      error: 'updated_at: not an ISO 8601 time',
    });
    expect(parseStatusPullItem(item({ updated_at: 1733000000 }), paths)).toMatchObject({ ok: false });
  });
});
