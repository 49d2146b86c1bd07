import { amount, formatAmount, type Amount } from '@leadrouter/money';

/** What a candidate's ping came to (a candidate without `ping` "bids" its fixed price: `outcome: 'bid'`). */
export interface PingOutcome {
  partnerId: string;
  outcome: 'bid' | 'no_bid' | 'timeout' | 'error';
  /** Exact decimal text; only with `bid`. */
  bid?: string;
}

/** One candidate's place in the auction's outcome. */
export type RankedBid = { partnerId: string; bid: string };
export type LostBid = { partnerId: string; why: 'below_floor' | 'no_bid' | 'timeout' | 'error' };

/** The auction's outcome: the bids taken, highest first, and why each other candidate has none. */
export interface AuctionDecision {
  ranked: RankedBid[];
  lost: LostBid[];
}

/**
 * Ranks an auction's bids (README "Ping/post", ADR 0032): bids below `floor` are no bids; the rest highest first,
 * ties in the route's list order (the order `outcomes` is given in). Exact: amounts compared as decimals.
 */
export function rankBids(outcomes: readonly PingOutcome[], floor: string): AuctionDecision {
  const min = amount(floor);
  const taken: { partnerId: string; bid: Amount; position: number }[] = [];
  const lost: LostBid[] = [];
  outcomes.forEach((o, position) => {
    if (o.outcome !== 'bid' || o.bid === undefined) {
      lost.push({ partnerId: o.partnerId, why: o.outcome === 'bid' ? 'no_bid' : o.outcome });
      return;
    }
    const bid = amount(o.bid);
    if (bid.lt(min)) lost.push({ partnerId: o.partnerId, why: 'below_floor' });
    else taken.push({ partnerId: o.partnerId, bid, position });
  });
  taken.sort((a, b) => b.bid.cmp(a.bid) || a.position - b.position);
  return { ranked: taken.map((t) => ({ partnerId: t.partnerId, bid: formatAmount(t.bid) })), lost };
}
