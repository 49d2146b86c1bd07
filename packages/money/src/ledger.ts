import type { LedgerKind, LedgerParty } from '@leadrouter/core';
import { type Amount, sumAmounts } from './amount.js';
import { type Payout, sourcePayout } from './payout.js';

export type Party = LedgerParty;
export type { LedgerKind };

/**
 * One ledger entry as an event produces it (the writer adds `id`, `leadId`
 * and `at`). Partner lines are revenue, source lines cost; returns and
 * reversals are negative. `(kind, eventId, party)` is the line's once-key,
 * unique in ledger_entries: what the line pays for (ADR 0023) — the delivery
 * for a partner's sale, conversion, return or reversal and the source lines
 * that go with them, the lead for what the source is paid once per lead
 * (cpl and its clawback), the adjustment itself for an adjustment.
 */
export interface LedgerLine {
  kind: LedgerKind;
  eventId: string;
  party: Party;
  partyId: string;
  /** The sale the line belongs to (for reports by partner); null when it belongs to none. */
  deliveryId: string | null;
  amount: Amount;
  note?: string;
}

export function lineKey(line: Pick<LedgerLine, 'kind' | 'eventId' | 'party'>): string {
  return `${line.kind}:${line.eventId}:${line.party}`;
}

/** Everything the lines of an event depend on, read in the event's transaction. */
export interface LeadMoney {
  leadId: string;
  sourceId: string;
  geo: string | null;
  payout: Payout | null;
  /** false: an approved return leaves the source its payout. */
  clawback: boolean;
  /** The lead's ledger so far. */
  entries: readonly LedgerLine[];
}

/**
 * The events that move money. Prices are resolved before (salePrice,
 * conversionRevenue); a return here is an approved one.
 */
export type MoneyEvent =
  | { kind: 'sale'; deliveryId: string; partnerId: string; price: Amount }
  | { kind: 'conversion'; deliveryId: string; partnerId: string; amount: Amount }
  | { kind: 'return'; deliveryId: string; partnerId: string }
  | { kind: 'reversal'; deliveryId: string; partnerId: string }
  | { kind: 'adjustment'; adjustmentId: string; party: Party; partyId: string; amount: Amount; note: string };

export type LedgerDecision =
  /** Write these lines (INSERT ... ON CONFLICT DO NOTHING on the once-key). */
  | { outcome: 'record'; lines: LedgerLine[] }
  /** The event's lines are in the ledger already: a retry, a replay, the same feedback again. */
  | { outcome: 'duplicate' }
  /** The event cannot happen to this lead: nothing was sold, or converted, through that delivery. */
  | { outcome: 'refused'; reason: 'not_sold' | 'not_converted' };

/**
 * The ledger lines an event produces, given the lead's ledger so far. Pure:
 * the caller locks the lead, reads its entries, calls this and writes the
 * lines in the event's own transaction.
 *
 * - sale: the partner's price; the source's cpl (once per lead: the first
 *   sale pays it) or its revshare of the price.
 * - conversion (once per partner and lead): what the partner pays for it;
 *   the source's cpa or its revshare of that.
 * - return (approved): the partner gets back what it paid for the sale; with
 *   clawback, the source gives back its revshare of that sale, and its cpl
 *   once no sale of the lead is left unreturned.
 * - reversal (of a conversion): both sides of the conversion, negated.
 * - adjustment: one line, as given.
 */
export function ledgerLines(event: MoneyEvent, lead: LeadMoney): LedgerDecision {
  const has = new Map(lead.entries.map((e) => [lineKey(e), e]));
  const find = (kind: LedgerKind, eventId: string, party: Party) => has.get(lineKey({ kind, eventId, party }));
  const partnerLine = (kind: LedgerKind, e: { deliveryId: string; partnerId: string }, amount: Amount) => ({
    kind,
    eventId: e.deliveryId,
    party: 'partner' as const,
    partyId: e.partnerId,
    deliveryId: e.deliveryId,
    amount,
  });
  const sourceLine = (kind: LedgerKind, eventId: string, deliveryId: string | null, amount: Amount) => ({
    kind,
    eventId,
    party: 'source' as const,
    partyId: lead.sourceId,
    deliveryId,
    amount,
  });

  switch (event.kind) {
    case 'sale': {
      if (find('sale', event.deliveryId, 'partner')) return { outcome: 'duplicate' };
      const lines: LedgerLine[] = [partnerLine('sale', event, event.price)];
      const payout = sourcePayout(lead.payout, 'sale', lead.geo, event.price);
      if (payout !== null) {
        // cpl is per lead: keyed by the lead, paid by its first sale.
        const eventId = lead.payout?.model === 'cpl' ? lead.leadId : event.deliveryId;
        if (!find('sale', eventId, 'source')) lines.push(sourceLine('sale', eventId, event.deliveryId, payout));
      }
      return { outcome: 'record', lines };
    }

    case 'conversion': {
      if (!find('sale', event.deliveryId, 'partner')) return { outcome: 'refused', reason: 'not_sold' };
      if (find('conversion', event.deliveryId, 'partner')) return { outcome: 'duplicate' };
      const lines: LedgerLine[] = [partnerLine('conversion', event, event.amount)];
      const payout = sourcePayout(lead.payout, 'conversion', lead.geo, event.amount);
      if (payout !== null) lines.push(sourceLine('conversion', event.deliveryId, event.deliveryId, payout));
      return { outcome: 'record', lines };
    }

    case 'return': {
      const sale = find('sale', event.deliveryId, 'partner');
      if (!sale) return { outcome: 'refused', reason: 'not_sold' };
      if (find('return', event.deliveryId, 'partner')) return { outcome: 'duplicate' };
      const lines: LedgerLine[] = [partnerLine('return', event, sale.amount.neg())];
      if (lead.clawback) {
        const share = find('sale', event.deliveryId, 'source');
        if (share) lines.push(sourceLine('return', event.deliveryId, event.deliveryId, share.amount.neg()));
        const cpl = find('sale', lead.leadId, 'source');
        if (cpl && !find('return', lead.leadId, 'source') && everySaleReturned(lead.entries, event.deliveryId)) {
          lines.push(sourceLine('return', lead.leadId, cpl.deliveryId, cpl.amount.neg()));
        }
      }
      return { outcome: 'record', lines };
    }

    case 'reversal': {
      const conversion = find('conversion', event.deliveryId, 'partner');
      if (!conversion) return { outcome: 'refused', reason: 'not_converted' };
      if (find('reversal', event.deliveryId, 'partner')) return { outcome: 'duplicate' };
      const lines: LedgerLine[] = [partnerLine('reversal', event, conversion.amount.neg())];
      const paid = find('conversion', event.deliveryId, 'source');
      if (paid) lines.push(sourceLine('reversal', event.deliveryId, event.deliveryId, paid.amount.neg()));
      return { outcome: 'record', lines };
    }

    case 'adjustment': {
      if (find('adjustment', event.adjustmentId, event.party)) return { outcome: 'duplicate' };
      const line: LedgerLine = {
        kind: 'adjustment',
        eventId: event.adjustmentId,
        party: event.party,
        partyId: event.partyId,
        deliveryId: null,
        amount: event.amount,
        note: event.note,
      };
      return { outcome: 'record', lines: [line] };
    }
  }
}

/** Whether every sale of the lead is returned once `returning` is. */
function everySaleReturned(entries: readonly LedgerLine[], returning: string): boolean {
  const returned = new Set(
    entries.filter((e) => e.kind === 'return' && e.party === 'partner').map((e) => e.deliveryId),
  );
  returned.add(returning);
  return entries.every((e) => !(e.kind === 'sale' && e.party === 'partner') || returned.has(e.deliveryId));
}

/** A lead's money as the admin view shows it: revenue (partner lines), cost (source lines), margin. */
export function leadMoney(entries: readonly Pick<LedgerLine, 'party' | 'amount'>[]): {
  revenue: Amount;
  cost: Amount;
  margin: Amount;
} {
  const revenue = sumAmounts(entries.filter((e) => e.party === 'partner').map((e) => e.amount));
  const cost = sumAmounts(entries.filter((e) => e.party === 'source').map((e) => e.amount));
  return { revenue, cost, margin: revenue.minus(cost) };
}

/** What the source earns on a lead (its `payout` in the source's view): the sum of its lines. */
export function sourceEarnings(entries: readonly Pick<LedgerLine, 'party' | 'amount'>[]): Amount {
  return sumAmounts(entries.filter((e) => e.party === 'source').map((e) => e.amount));
}
