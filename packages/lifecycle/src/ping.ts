import { auctionSettings, type PingValues } from '@leadrouter/core/runtime';
import {
  RECORD_PING_BIDS,
  RECORD_PINGS,
  runStatement,
  SOURCE_PAYOUT,
  sqlPool,
  type Db,
  type SqlPool,
} from '@leadrouter/db';
import { amount, formatAmount, payoutFromColumns, sourcePayout, ZERO, type Payout } from '@leadrouter/money';
import { keptUntil, type PingBindings, type PingJob, type PingState } from '@leadrouter/queue';
import { decideRoute, selectRoute } from '@leadrouter/routing';
import { runAuction, type AuctionOutcome } from './auction.js';
import type { AuctionLog, FlowLog, LeadFlowDeps, LoggedAuction as Logged } from './flow.js';
import { routingRules } from './route-lead.js';

/**
 * What a ping is bound to in Redis until it expires (ADR 0032): who sent it, its values (without contact
 * data: it never had any), the auction route it matched and that auction's pings and ranked bids, and the
 * source's bid (its payout on the best bid). A post against the ping is routed with exactly this auction.
 */
export interface PingBinding extends AuctionOutcome {
  pingId: string;
  sourceId: string;
  routeId: string | null;
  values: PingValues;
  /** Exact decimal text: what the source was told it would be paid; only with a bid. */
  sourceBid?: string;
}

/** What answering a ping needs besides the lead flow's ports. */
export interface PingDeps extends Pick<
  LeadFlowDeps,
  'db' | 'queues' | 'log' | 'random' | 'caches' | 'metrics' | 'ping' | 'pingLog'
> {
  bindings: PingBindings<PingBinding>;
}

/**
 * Answers a source's ping (the worker's `ping` job; README "Ping then post (for sources)", ADR 0032): the route the lead would
 * match, its auction if it is an auction route — with its deadline counted from when the ingest received the
 * ping — and the best bid with the source's payout on it, bound to the ping in Redis; then the ingest waiting
 * for it is told (`<prefix>:outcomes`). Any other route, none, or no bid at or above the floor: no bid.
 * A ping received longer ago than its route's deadline is not auctioned (the ingest answered no bid already).
 */
export async function answerPing(deps: PingDeps, job: PingJob): Promise<PingBinding> {
  const { routes, partners } = await routingRules(deps);
  // Read while the buyers bid: nothing but the binding comes after the auction's deadline.
  const payout = payoutOf(deps, job.sourceId);
  payout.catch(() => undefined);
  const lead = { id: job.pingId, name: '', phone: '', email: null, ...job.values, sourceId: job.sourceId };
  const selected = selectRoute(lead, routes);
  const { route } = selected;
  let auction: AuctionOutcome = { pings: [], ranked: [], lost: [] };
  if (route?.strategy === 'auction') {
    const decision = decideRoute({ lead, routes, partners, random: deps.random, selected });
    const { timeoutMs, floor } = auctionSettings(route.auction);
    const left = job.receivedAt + timeoutMs - Date.now();
    if (decision.outcome === 'matched' && left > 0) {
      const candidates = decision.candidates.map((id) => partners.get(id)!);
      auction = await runAuction(deps, lead, job.pingId, candidates, { timeoutMs: left, floor });
    }
  }
  const best = auction.ranked[0];
  const binding: PingBinding = {
    pingId: job.pingId,
    sourceId: job.sourceId,
    routeId: route?.strategy === 'auction' ? route.id : null,
    values: job.values,
    ...auction,
    ...(best ? { sourceBid: formatAmount(bidToSource(await payout, job.values.geo, best.bid)) } : {}),
  };
  const state = { status: best ? ('bid' as const) : ('no_bid' as const), expiresAt: job.expiresAt, binding };
  const bound = await deps.bindings.settle(job.pingId, job.sourceId, state, keptUntil(job.receivedAt, job.expiresAt));
  if (bound) reply(deps, job, state);
  else deps.log.info({ pingId: job.pingId }, 'ping answered after the ingest’s deadline: the source was told no bid');
  deps.pingLog?.add(bound ? binding : { ...binding, ranked: [], sourceBid: undefined }, new Date(job.receivedAt), true);
  return binding;
}

/**
 * Tells the ingest waiting for the ping its answer: on that ingest's own channel with the answer itself
 * (`replyTo`), or — a job of an ingest that names none — the ping's id on the outcomes channel every ingest hears.
 */
function reply(deps: Pick<PingDeps, 'queues'>, job: PingJob, { status, expiresAt, binding }: PingState<PingBinding>) {
  if (!job.replyTo) return deps.queues.announceOutcomes([job.pingId]);
  const sourceBid = binding.sourceBid;
  deps.queues.replyToPing(job.replyTo, job.pingId, { status, expiresAt, ...(sourceBid ? { sourceBid } : {}) });
}

/**
 * What a source is told it will be paid on a bid (its `payout`, ADR 0023): cpl its amount (by geo), revshare its
 * share of the bid, cpa what it earns when the lead converts; no payout: nothing.
 */
export function bidToSource(payout: Payout | null, geo: string | null, bid: string): ReturnType<typeof amount> {
  const on = payout?.model === 'cpa' ? 'conversion' : 'sale';
  return sourcePayout(payout, on, geo, amount(bid)) ?? ZERO;
}

/** How long a source's payout is used without asking PostgreSQL again (every source write drops it; ADR 0009). */
const PAYOUT_CACHE_TTL_MS = 5_000;

async function payoutOf(deps: Pick<PingDeps, 'db' | 'caches'>, sourceId: string): Promise<Payout | null> {
  const load = async () => {
    const [row] = await runStatement(sqlPool(deps.db), SOURCE_PAYOUT, { sourceId });
    return row ? payoutFromColumns(row) : null;
  };
  const cache = deps.caches?.cache<string, Payout | null>('sources', PAYOUT_CACHE_TTL_MS);
  return cache ? cache.get(`payout:${sourceId}`, load) : load();
}

/** How often the pings recorded so far are written. */
export const PING_LOG_FLUSH_MS = 1_000;
/** Pings kept for the next write at most (PostgreSQL away): past that the oldest are dropped, and counted. */
const PING_LOG_MAX = 50_000;

/**
 * Auctions for stats and reports, written in bulk every second (two statements for all since), never on the
 * answer's path (ADR 0032): each buyer's answer (`ping_bids`; the ping's id is the lead's for a lead's own
 * auction), and each source's ping (`pings`). Not durable data: while PostgreSQL is away they are kept up to a
 * bound, then dropped (logged).
 */
export class PingLog implements AuctionLog {
  private rows: { binding: Logged; at: Date; sourcePing: boolean }[] = [];
  private readonly pool: SqlPool;
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private dropped = 0;

  constructor(
    db: Db,
    private readonly log: FlowLog,
    flushIntervalMs = PING_LOG_FLUSH_MS,
  ) {
    this.pool = sqlPool(db);
    this.timer = setInterval(() => void this.flush(), flushIntervalMs);
    this.timer.unref();
  }

  /** Records an auction: a source's ping (`sourcePing`), or the auction of a lead posted without one. */
  add(binding: Logged, at: Date, sourcePing: boolean): void {
    this.rows.push({ binding, at, sourcePing });
    if (this.rows.length > PING_LOG_MAX) this.dropped += this.rows.splice(0, this.rows.length - PING_LOG_MAX).length;
  }

  /** Writes what was recorded so far (one write at a time). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  private async write(): Promise<void> {
    if (this.dropped > 0) {
      this.log.warn({ pings: this.dropped }, 'pings dropped from the stats: PostgreSQL could not take them in time');
      this.dropped = 0;
    }
    const rows = this.rows;
    if (rows.length === 0) return;
    this.rows = [];
    const bids = rows.flatMap(({ binding: b, at }) => {
      const rank = new Map(b.ranked.map((r, i) => [r.partnerId, i + 1]));
      return b.pings.map((p) => ({ b, p, rank: rank.get(p.partnerId) ?? null, at }));
    });
    // A lead's own auction is no source's ping: its buyers' answers only.
    const pings = rows.filter((r) => r.sourcePing);
    try {
      // Each statement adds the report figures of the rows it inserted only: retried, it counts nothing twice.
      await runStatement(this.pool, RECORD_PINGS, {
        ids: pings.map((r) => r.binding.pingId),
        sourceIds: pings.map((r) => r.binding.sourceId),
        routeIds: pings.map((r) => r.binding.routeId),
        statuses: pings.map((r) => (r.binding.sourceBid === undefined ? 'no_bid' : 'bid')),
        bestBids: pings.map((r) => r.binding.ranked[0]?.bid ?? null),
        sourceBids: pings.map((r) => r.binding.sourceBid ?? null),
        geos: pings.map((r) => r.binding.values?.geo ?? null),
        channels: pings.map((r) => r.binding.values?.source ?? null),
        at: pings.map((r) => r.at),
      });
      await runStatement(this.pool, RECORD_PING_BIDS, {
        pingIds: bids.map(({ b }) => b.pingId),
        partnerIds: bids.map(({ p }) => p.partnerId),
        outcomes: bids.map(({ p }) => p.outcome),
        bids: bids.map(({ p }) => p.bid ?? null),
        ranks: bids.map(({ rank }) => rank),
        durations: bids.map(({ p }) => p.durationMs),
        at: bids.map(({ at }) => at),
        sourceIds: bids.map(({ b }) => b.sourceId),
        geos: bids.map(({ b }) => b.values?.geo ?? null),
        channels: bids.map(({ b }) => b.values?.source ?? null),
      });
    } catch (err) {
      this.log.warn({ pings: rows.length, err: { message: (err as Error).message } }, 'could not record pings; kept');
      this.rows = [...rows, ...this.rows];
    }
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
