import {
  decideRoute,
  selectRoute,
  type RouteDecision,
  type RoutingPartner,
  type RoutingRoute,
} from '@leadrouter/routing';
import {
  readRoutingRecord,
  regexErrors,
  type Auction,
  type PublicLead,
  type RoutingRecord,
} from '@leadrouter/core/runtime';
import { LEAD_DELIVERIES, LOCK_LEAD, ROUTING_PARTNERS, ROUTING_ROUTES, runStatement, sqlPool } from '@leadrouter/db';
import type { DeliverJob } from '@leadrouter/queue';
import { advanceAndCommit, settleUnreadable } from './advance.js';
import { runAuction, type AuctionCandidate, type AuctionOutcome } from './auction.js';
import { deliverNow } from './attempt-delivery.js';
import {
  announceSettled,
  enqueueDeliveries,
  leadTransaction,
  NOTHING,
  type Followups,
  type LeadFlowDeps,
} from './flow.js';
import { routingRecordOf } from './record.js';

/**
 * Routes a lead (the worker's `route` job): decide the lead's route and candidates once, then make
 * the first attempts right here (`deliverNow`). A repeat (sweeper, stalled
 * job, a retry after an error) of a lead already routing advances it, which
 * is idempotent, and puts its pending deliveries back on the deliver queue
 * (job ids make that a no-op for those already there): that is how a
 * delivery whose first attempt was cut short by a crash gets made. One whose
 * routing record cannot be read is settled (`settleUnreadable`). One
 * transaction, usually three round trips: the lead's lock (with what
 * routing reads and its deliveries), the candidates' state, and the writes
 * with the commit.
 */
export async function routeLead(deps: LeadFlowDeps, leadId: string, auction?: AuctionOutcome): Promise<void> {
  const { routes, partners } = await routingRules(deps);
  let decision: RouteDecision | undefined;
  let auctionDue:
    | { lead: PublicLead; sourceId: string; routeId: string; candidates: AuctionCandidate[]; settings: Auction | null }
    | undefined;
  let resumed: { job: DeliverJob; delayMs: number }[] = [];
  let routed: PublicLead | undefined;
  let pings: RoutingRecord['pings'];
  const next = await leadTransaction(deps, leadId, async (tx): Promise<Followups> => {
    // What a run sets, afresh: a shared transaction abandoned runs this again (leadTransaction).
    decision = auctionDue = routed = pings = undefined;
    resumed = [];
    const [[lead], deliveries] = await tx.run([tx.call(LOCK_LEAD, { leadId }), tx.call(LEAD_DELIVERIES, { leadId })]);
    const now = deps.now();
    if (lead?.status === 'routing') {
      // Routed before (a crash, a lost job, an error after the commit): advance it, resume its deliveries.
      const stored = readRoutingRecord(lead.routing);
      if (stored.kind === 'none') return NOTHING;
      resumed = deliveries.flatMap((d) =>
        d.status === 'pending' && d.nextAttemptAt
          ? [
              {
                job: { deliveryId: d.id, attempt: d.attempts + 1 },
                delayMs: d.nextAttemptAt.getTime() - now.getTime(),
              },
            ]
          : [],
      );
      const given = { deliveries, postback: lead.postback };
      switch (stored.kind) {
        case 'unreadable':
          // Its pending deliveries go on; it settles when none is left (ADR 0021).
          return (await settleUnreadable(deps, tx, leadId, stored.reason, now, given)).followups;
        case 'record':
          return advanceAndCommit(tx, leadId, stored.record, now, given);
      }
    }
    // An erased lead is never queued (its erasure waits until it is settled, ADR 0031): nothing to send.
    if (lead?.status !== 'queued' || lead.name === null || lead.phone === null) return NOTHING;
    const { id, name, phone, email, geo, source, fields } = lead;
    routed = { id, name, phone, email, geo, source, fields }; // what partners see of it
    const routable = { ...routed, sourceId: lead.sourceId };
    const selected = selectRoute(routable, routes);
    const { route } = selected;
    const rotation = route?.strategy === 'round_robin' ? await deps.nextRotation(route.id) : 0;
    decision = decideRoute({ lead: routable, routes, partners, rotation, random: deps.random, selected });
    let record: RoutingRecord;
    if (route?.strategy === 'auction' && decision.outcome === 'matched') {
      // A lead posted against a source's ping is sold against that ping's bids: its buyers are not pinged again.
      auction ??= postedAuction(lead.ping);
      if (!auction) {
        // The auction runs outside the transaction (its pings take up to its deadline); then the lead is
        // routed again with its outcome, under its lock, from the state it is in then (ADR 0032).
        auctionDue = {
          lead: routed,
          sourceId: lead.sourceId,
          routeId: route.id,
          candidates: decision.candidates.map((id) => partners.get(id)!),
          settings: route.auction ?? null,
        };
        decision = undefined;
        return NOTHING;
      }
      decision = auctionDecision(decision, auction);
      record = auctionRecord(routingRecordOf(decision, route.strategy, now), auction, now);
      pings = record.pings;
    } else record = routingRecordOf(decision, route?.strategy, now);
    return advanceAndCommit(tx, leadId, record, now, {
      entering: { status: 'routing', detail: { route: record.routeName ?? null } },
      // A queued lead has no deliveries yet: they are created with its move to `routing`.
      deliveries: [],
      postback: lead.postback,
      // Their first attempts are made by this job (`deliverNow`): leased to it, in the commit that creates them.
      attemptAtOnce: true,
    });
  });
  if (auctionDue) {
    const outcome = await runAuction(deps, auctionDue.lead, leadId, auctionDue.candidates, auctionDue.settings);
    const { sourceId, routeId } = auctionDue;
    const values = { geo: auctionDue.lead.geo, source: auctionDue.lead.source };
    deps.pingLog?.add({ pingId: leadId, sourceId, routeId, values, ...outcome }, deps.now(), false);
    return routeLead(deps, leadId, outcome);
  }
  if (decision) {
    deps.metrics?.leadsRouted.inc({ outcome: decision.outcome });
    deps.log.info(
      {
        leadId,
        outcome: decision.outcome,
        route: decision.routeId ? decision.routeName : undefined,
        deliveries: next.deliveries.length,
      },
      'lead routed',
    );
  }
  announceSettled(deps, next);
  for (const { job, delayMs } of resumed) await deps.queues.enqueueDelivery(job, delayMs);
  for (const job of next.postbacks) await deps.queues.enqueuePostback(job);
  // A lead routed just now: its first attempts are made here. One advanced after a repeat: its new ones are queued.
  if (routed) await deliverNow(deps, routed, next, pings);
  else await enqueueDeliveries(deps, next.deliveries);
}

export interface RoutingRules {
  routes: RoutingRoute[];
  partners: ReadonlyMap<string, RoutingPartner & AuctionCandidate>;
}

/**
 * An auction route's decision once its bids are in: the candidates that bid at or above the floor, highest bid
 * first (ties: list order); none: the lead is unmatched, no bid in the auction.
 */
function auctionDecision(
  decision: Extract<RouteDecision, { outcome: 'matched' }>,
  auction: AuctionOutcome,
): RouteDecision {
  const eligible = new Set(decision.candidates);
  const candidates = auction.ranked.map((r) => r.partnerId).filter((id) => eligible.has(id));
  if (candidates.length > 0) return { ...decision, candidates };
  const { routeId, routeName, skipped, filterErrors } = decision;
  return {
    outcome: 'unmatched',
    reason: 'no bid in the auction',
    routeId,
    routeName,
    skipped,
    ...(filterErrors ? { filterErrors } : {}),
  };
}

const LOST_TEXT = {
  below_floor: 'bid below the auction’s floor',
  no_bid: 'no bid',
  timeout: 'no answer to the ping within the auction’s deadline',
  error: 'the ping failed',
} as const;

/** The routing record of an auction: every ping, and each candidate without a bid taken, with why. */
function auctionRecord(record: RoutingRecord, auction: AuctionOutcome, now: Date): RoutingRecord {
  const at = now.toISOString();
  return {
    ...record,
    pings: auction.pings,
    decisions: [
      ...record.decisions,
      ...auction.lost.map((l) => ({
        partnerId: l.partnerId,
        decision: 'skipped' as const,
        reason: `auction: ${LOST_TEXT[l.why]}`,
        at,
      })),
    ],
  };
}

/**
 * The auction of the ping a lead was posted against, as the ingest stored it (`leads.ping`: packages/lifecycle's
 * `PingBinding` without the source's side; ADR 0032), or undefined for none or a shape no writer makes.
 */
function postedAuction(stored: unknown): AuctionOutcome | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined;
  const { pings, ranked, lost } = stored as Partial<AuctionOutcome>;
  return Array.isArray(pings) && Array.isArray(ranked) && Array.isArray(lost) ? { pings, ranked, lost } : undefined;
}

/** How long the rules are used without asking PostgreSQL again (every write drops them at once; ADR 0009). */
export const RULES_CACHE_TTL_MS = 5_000;

/**
 * The active routes and every partner, as the routing decision reads them:
 * cached per worker process, and dropped on every worker when a route or
 * partner changes, so a change through the admin API applies to the next
 * lead. What depends on the moment (pause, schedule, caps) is checked again
 * from PostgreSQL when a partner's turn comes (`advanceAndCommit`).
 */
export function routingRules(deps: Pick<LeadFlowDeps, 'db' | 'log' | 'caches'>): Promise<RoutingRules> {
  const load = async (): Promise<RoutingRules> => {
    const pool = sqlPool(deps.db);
    const [routes, partners] = await Promise.all([
      runStatement(pool, ROUTING_ROUTES, {}),
      runStatement(pool, ROUTING_PARTNERS, {}),
    ]);
    const rules = { routes, partners: new Map(partners.map((p) => [p.id, p])) };
    reportUnusablePatterns(deps, rules);
    return rules;
  };
  const cache = deps.caches?.cache<'rules', RoutingRules>('rules', RULES_CACHE_TTL_MS);
  return cache ? cache.get('rules', load) : load();
}

/** What has been reported already, so a stored pattern that does not compile is logged once per process. */
const reported = new Set<string>();

/**
 * Compiles every stored regex filter as the rules load (RE2, once per
 * pattern per process), and warns of those that cannot be used: saved before
 * patterns were checked, or written to the database by hand. They do not
 * match, and each lead they pass over records why (ADR 0013).
 */
function reportUnusablePatterns(deps: Pick<LeadFlowDeps, 'log'>, { routes, partners }: RoutingRules): void {
  const owners = [
    ...routes.map((r) => ({ routeId: r.id, filters: r.filters })),
    ...[...partners.values()].map((p) => ({ partnerId: p.id, filters: p.filters })),
  ];
  for (const { filters, ...owner } of owners) {
    for (const { field, message } of regexErrors(filters, '/filters')) {
      const key = JSON.stringify([owner, field, message]);
      if (reported.has(key)) continue;
      reported.add(key);
      deps.log.warn({ ...owner, field, error: message }, 'a stored regex filter cannot be used: it matches no lead');
    }
  }
}
