import { parseStatusMap, type LedgerLine } from '@leadrouter/money';
import {
  decideFeedback,
  feedbackTime,
  moneyStatus,
  settledMoney,
  type FeedbackFacts,
  type SaleFacts,
  type SettlingLine,
} from './feedback';

const now = new Date('2026-03-01T12:00:00Z');
const daysAgo = (n: number) => new Date(now.getTime() - n * 86_400_000);
const map = (() => {
  const parsed = parseStatusMap({ Deposit: 'converted', 'Invalid number': 'returned', Chargeback: 'reversed' });
  if (!parsed.ok) throw new Error('map');
  return parsed.map;
})();
const terms = { statusMap: map, returnsWindowDays: 30, returnsAutoApprove: false };
const sale = (over: Partial<SaleFacts> = {}): SaleFacts => ({
  saleAt: daysAgo(2),
  partnerStatus: null,
  partnerStatusAt: null,
  returnStatus: null,
  conversion: false,
  reversal: false,
  ...over,
});
const event = (over: Partial<FeedbackFacts>): FeedbackFacts => ({
  event: 'converted',
  status: null,
  amount: null,
  reason: null,
  at: now,
  ...over,
});

describe('decideFeedback', () => {
  it('nothing happens to a lead the ledger has no sale of', () => {
    expect(decideFeedback(event({}), sale({ saleAt: null }), terms, now)).toEqual({ outcome: 'not_sold' });
  });

  it('converts once; a second conversion is a duplicate, also after a reversal', () => {
    expect(decideFeedback(event({}), sale(), terms, now)).toMatchObject({
      result: 'converted',
      effect: { kind: 'convert' },
    });
    expect(decideFeedback(event({}), sale({ conversion: true }), terms, now)).toEqual({ outcome: 'duplicate' });
    expect(decideFeedback(event({}), sale({ conversion: true, reversal: true }), terms, now)).toEqual({
      outcome: 'duplicate',
    });
  });

  it('a reversal before its conversion waits for it; after it, it reverses once', () => {
    const reversed = event({ event: 'reversed' });
    expect(decideFeedback(reversed, sale(), terms, now)).toMatchObject({
      result: 'awaiting_conversion',
      effect: { kind: 'await_conversion' },
    });
    expect(decideFeedback(reversed, sale({ conversion: true }), terms, now)).toMatchObject({ result: 'reversed' });
    expect(decideFeedback(reversed, sale({ conversion: true, reversal: true }), terms, now)).toEqual({
      outcome: 'duplicate',
    });
  });

  it('returns: within the window, once, queued or approved as the partner agreed; never after a rejection', () => {
    const returned = event({ event: 'returned' });
    expect(decideFeedback(returned, sale(), terms, now)).toMatchObject({
      result: 'return_pending',
      effect: { kind: 'file_return', approve: false },
    });
    expect(decideFeedback(returned, sale(), { ...terms, returnsAutoApprove: true }, now)).toMatchObject({
      result: 'returned',
      effect: { kind: 'file_return', approve: true },
    });
    expect(decideFeedback(returned, sale({ saleAt: daysAgo(30) }), terms, now)).toMatchObject({
      result: 'return_pending',
    });
    expect(decideFeedback(returned, sale({ saleAt: daysAgo(31) }), terms, now)).toMatchObject({
      outcome: 'refused',
      message: expect.stringMatching(/^outside the returns window: 30 days/),
    });
    // A partner cannot backdate its way into the window: the window is counted to when the event arrives.
    expect(decideFeedback({ ...returned, at: daysAgo(31) }, sale({ saleAt: daysAgo(31) }), terms, now)).toMatchObject({
      outcome: 'refused',
    });
    expect(decideFeedback(returned, sale(), { ...terms, returnsWindowDays: 0 }, now)).toMatchObject({
      outcome: 'refused',
      message: 'returns are not allowed for this partner',
    });
    expect(decideFeedback(returned, sale({ returnStatus: 'pending' }), terms, now)).toEqual({ outcome: 'duplicate' });
    expect(decideFeedback(returned, sale({ returnStatus: 'rejected' }), terms, now)).toMatchObject({
      outcome: 'refused',
      field: '/event',
    });
  });

  it('statuses go through the statusMap, case-insensitively; the same, an unmapped or an older one changes nothing', () => {
    const status = (s: string, at = now) => event({ event: 'status', status: s, at });
    expect(decideFeedback(status('DEPOSIT'), sale(), terms, now)).toMatchObject({
      result: 'converted',
      partnerStatus: { status: 'DEPOSIT', at: now },
    });
    expect(decideFeedback(status('deposit'), sale({ partnerStatus: 'Deposit' }), terms, now)).toMatchObject({
      result: 'unchanged',
      effect: { kind: 'none' },
    });
    expect(decideFeedback(status('Active trader'), sale({ conversion: true }), terms, now)).toMatchObject({
      result: 'unmapped',
    });
    expect(
      decideFeedback(
        status('Pending', daysAgo(1)),
        sale({ partnerStatus: 'Deposit', partnerStatusAt: now }),
        terms,
        now,
      ),
    ).toEqual({ outcome: 'record', result: 'stale', effect: { kind: 'none' } });
    // A converted sale whose status now means anything else is reversed (ADR 0023).
    expect(decideFeedback(status('Invalid number'), sale({ conversion: true }), terms, now)).toMatchObject({
      result: 'reversed',
      effect: { kind: 'reverse' },
    });
    // A status is never a duplicate: it is recorded with what it came to.
    expect(decideFeedback(status('Chargeback'), sale(), terms, now)).toMatchObject({ result: 'not_converted' });
    expect(decideFeedback(status('Deposit'), sale({ conversion: true, reversal: true }), terms, now)).toMatchObject({
      result: 'already_converted',
    });
    expect(decideFeedback(status('Invalid number'), sale({ returnStatus: 'approved' }), terms, now)).toMatchObject({
      result: 'already_returned',
    });
  });
});

describe('moneyStatus', () => {
  const line = (kind: LedgerLine['kind'], deliveryId: string, party: LedgerLine['party'] = 'partner') => ({
    kind,
    party,
    deliveryId,
  });
  it('follows the ledger of a sold lead', () => {
    expect(moneyStatus('delivered', [line('sale', 'a')])).toBe('delivered');
    expect(moneyStatus('delivered', [line('sale', 'a'), line('conversion', 'a')])).toBe('converted');
    expect(moneyStatus('converted', [line('sale', 'a'), line('conversion', 'a'), line('reversal', 'a')])).toBe(
      'delivered',
    );
    expect(moneyStatus('converted', [line('sale', 'a'), line('conversion', 'a'), line('return', 'a')])).toBe(
      'returned',
    );
  });
  it('a shared lead stays delivered (or converted) while one buyer keeps it', () => {
    const two = [line('sale', 'a'), line('sale', 'b'), line('return', 'a')];
    expect(moneyStatus('delivered', two)).toBe('delivered');
    expect(moneyStatus('delivered', [...two, line('conversion', 'a')])).toBe('delivered');
    expect(moneyStatus('delivered', [...two, line('conversion', 'b')])).toBe('converted');
    expect(moneyStatus('delivered', [...two, line('return', 'b')])).toBe('returned');
    // Source lines do not count.
    expect(moneyStatus('delivered', [line('sale', 'a'), line('return', 'a', 'source')])).toBe('delivered');
  });
  it('leaves a lead that is not sold as it is', () => {
    expect(moneyStatus('routing', [line('sale', 'a'), line('conversion', 'a')])).toBeNull();
    expect(moneyStatus('delivered', [])).toBeNull();
  });
});

describe('settledMoney', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 11, 1, 12, 0, s));
  const line = (kind: LedgerLine['kind'], deliveryId: string, s: number, party: LedgerLine['party'] = 'partner') =>
    ({ kind, party, partyId: `p-${deliveryId}`, deliveryId, at: at(s) }) satisfies SettlingLine;

  it('a lead sold and nothing more settles delivered, its postback dated when it is written', () => {
    expect(settledMoney([line('sale', 'a', 1), line('sale', 'a', 1, 'source')])).toEqual({
      status: 'delivered',
      postbackAt: null,
    });
    expect(settledMoney([line('sale', 'a', 1), line('sale', 'b', 5)])).toEqual({
      status: 'delivered',
      postbackAt: null,
    });
    // A sale without lines (nothing the ledger knows of): delivered all the same.
    expect(settledMoney([])).toEqual({ status: 'delivered', postbackAt: null });
  });

  it('a conversion while routing settles it converted, with the converting buyer; the sale’s postback first', () => {
    const entries = [line('sale', 'a', 1), line('conversion', 'a', 3), line('sale', 'b', 5)];
    expect(settledMoney(entries)).toEqual({ status: 'converted', partnerId: 'p-a', postbackAt: at(1) });
    // The first conversion that stands decides: a's was reversed, b's stands.
    const again = [...entries, line('reversal', 'a', 6), line('conversion', 'b', 7)];
    expect(settledMoney(again)).toEqual({ status: 'converted', partnerId: 'p-b', postbackAt: at(1) });
  });

  it('returned only when every buyer’s return is approved (its return line written)', () => {
    const one = [line('sale', 'a', 1), line('return', 'a', 3)];
    expect(settledMoney(one)).toEqual({ status: 'returned', partnerId: 'p-a', postbackAt: at(1) });
    // The other buyer keeps it: delivered — still dated at the first sale, the return's postback went out.
    const kept = [line('sale', 'a', 1), line('return', 'a', 3), line('sale', 'b', 5)];
    expect(settledMoney(kept)).toEqual({ status: 'delivered', postbackAt: at(1) });
    expect(settledMoney([...kept, line('return', 'b', 8)])).toEqual({
      status: 'returned',
      partnerId: 'p-b',
      postbackAt: at(1),
    });
    // A conversion of a sale since returned does not make the lead converted.
    expect(
      settledMoney([line('sale', 'a', 1), line('conversion', 'a', 2), line('sale', 'b', 4), line('return', 'a', 5)]),
    ).toEqual({ status: 'delivered', postbackAt: at(1) });
  });

  it('a reversed conversion settles delivered', () => {
    expect(settledMoney([line('sale', 'a', 2), line('conversion', 'a', 3), line('reversal', 'a', 4)])).toEqual({
      status: 'delivered',
      postbackAt: at(2),
    });
  });
});

describe('feedbackTime', () => {
  it('is when the partner says, but not before the sale nor after now', () => {
    expect(feedbackTime(daysAgo(1), daysAgo(2), now)).toEqual(daysAgo(1));
    expect(feedbackTime(daysAgo(3), daysAgo(2), now)).toEqual(daysAgo(2));
    expect(feedbackTime(new Date(now.getTime() + 1000), daysAgo(2), now)).toEqual(now);
  });
});
