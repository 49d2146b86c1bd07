import {
  auctionSettings,
  pingSettings,
  storableText,
  type Auction,
  type PingEntry,
  type PublicLead,
} from '@leadrouter/core/runtime';
import type { Ping } from '@leadrouter/core';
import { pingLead, pingRequest, readPingAnswer, type PingAnswer } from '@leadrouter/delivery/requests';
import { formatAmount } from '@leadrouter/money';
import { rankBids, type AuctionDecision } from './decide/auction.js';
import type { LeadFlowDeps } from './flow.js';

/** What an auction reads of a candidate partner. */
export interface AuctionCandidate {
  id: string;
  name: string;
  ping: Ping | null;
  /** Exact decimal text: what it bids without a `ping`. */
  price: string | null;
}

/** An auction's outcome: every ping in the route's order, and the bids ranked. */
export interface AuctionOutcome extends AuctionDecision {
  pings: PingEntry[];
}

/**
 * Runs an auction (README "Ping/post", ADR 0032): pings every candidate with a `ping` in parallel, without the
 * lead's contact data, each within the sooner of its own timeout and the auction's deadline (which holds even
 * if a request outlives its timeout: it then counts as a timeout); a candidate without `ping` bids its fixed
 * `price` (none: no bid). The bids are ranked by `rankBids`. Never throws for a partner's sake.
 */
export async function runAuction(
  deps: Pick<LeadFlowDeps, 'ping' | 'log' | 'metrics'>,
  lead: PublicLead,
  pingId: string,
  candidates: readonly AuctionCandidate[],
  stored: Auction | null | undefined,
): Promise<AuctionOutcome> {
  const { timeoutMs, floor } = auctionSettings(stored);
  const safe = pingLead(lead);
  const started = performance.now();
  const pings = await Promise.all(
    candidates.map(async (c): Promise<PingEntry> => {
      if (!c.ping)
        return c.price === null
          ? { partnerId: c.id, outcome: 'no_bid', reason: 'no ping and no price', pinged: false, durationMs: 0 }
          : { partnerId: c.id, outcome: 'bid', bid: c.price, pinged: false, durationMs: 0 };
      const settings = pingSettings(c.ping);
      const answer = await withDeadline(
        deps
          .ping(pingRequest(settings, safe, pingId, timeoutMs))
          .then((result) => readPingAnswer(result, settings))
          .catch((err: unknown): PingAnswer => ({ outcome: 'error', reason: String(err), durationMs: 0 })),
        timeoutMs + 50,
        (): PingAnswer => ({ outcome: 'timeout', durationMs: Math.round(performance.now() - started) }),
      );
      deps.metrics?.pings.inc({ partner: c.name, outcome: answer.outcome });
      deps.metrics?.pingDuration.observe({ partner: c.name }, answer.durationMs / 1000);
      return pingEntry(c.id, answer);
    }),
  );
  return { pings, ...rankBids(pings, floor) };
}

function pingEntry(partnerId: string, answer: PingAnswer): PingEntry {
  const base = { partnerId, pinged: true, durationMs: Math.max(0, Math.round(answer.durationMs)) };
  switch (answer.outcome) {
    case 'bid':
      return {
        ...base,
        outcome: 'bid',
        bid: formatAmount(answer.bid),
        ...(answer.reference !== undefined ? { reference: answer.reference } : {}),
      };
    case 'no_bid':
    case 'error':
      return { ...base, outcome: answer.outcome, reason: storableText(answer.reason, { chars: 300 }) };
    case 'timeout':
      return { ...base, outcome: 'timeout' };
  }
}

/** The promise's value, or `late()` once `ms` have passed (the promise is left to settle on its own). */
function withDeadline<T>(promise: Promise<T>, ms: number, late: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(late()), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
