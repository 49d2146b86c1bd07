import {
  decideRoute,
  selectRoute,
  type RouteDecision,
  type RoutingLead,
  type RoutingPartner,
  type RoutingRoute,
} from '@leadrouter/routing';
import type { LeadStatus } from '@leadrouter/core';
import type { Prisma } from '@leadrouter/db';
import type { DeliverJob } from '@leadrouter/queue';
import type { WorkerDeps } from './deps.js';
import { advanceLocked, lockLead, skippedEntries, type Followups, type RoutingRecord } from './lead-flow.js';
import { toRoutingPartner, toRoutingRoute } from './mappers.js';

/**
 * The `route` job: decide the lead's route and candidates once, then start
 * delivering. A repeat (sweeper, stalled job) of a lead already routing only
 * advances it, which is idempotent.
 */
export async function routeLead(deps: WorkerDeps, leadId: string): Promise<void> {
  const { routes, partners } = await routingRules(deps);
  let status: LeadStatus | undefined;
  let decision: RouteDecision | undefined;
  // Decided under the lead's row lock, read in the same statement that takes it.
  const next = await deps.db.$transaction(async (tx): Promise<Followups> => {
    const lead = await lockLeadForRouting(tx, leadId);
    status = lead?.status;
    if (!lead || lead.status !== 'queued') return NOTHING;
    const selected = selectRoute(lead, routes);
    const rotation = selected?.strategy === 'round_robin' ? await nextRotation(deps, selected.id) : 0;
    decision = decideRoute({ lead, routes, partners, rotation, random: deps.random });
    const now = deps.now();
    const record = toRecord(decision, selected?.strategy, now);
    return advanceLocked(tx, leadId, record, now, {
      entering: { status: 'routing', detail: { route: record.routeName ?? null } },
      // A queued lead has no deliveries yet: they are created with its move to `routing`.
      deliveries: [],
      postback: lead.postback,
    });
  });
  if (status !== undefined && status !== 'queued') return advanceLead(deps, leadId);
  if (!decision) return;
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
  await enqueueFollowups(deps, next);
}

/** Takes the lead's row lock (as `lockLead`) and reads what routing looks at. */
async function lockLeadForRouting(
  tx: Prisma.TransactionClient,
  leadId: string,
): Promise<(RoutingLead & { status: LeadStatus; postback: boolean }) | null> {
  const rows = await tx.$queryRaw<(RoutingLead & { status: LeadStatus; postback: boolean })[]>`
    SELECT l.id::text, l.status::text, l.source_id::text AS "sourceId", l.name, l.phone, l.email, l.geo::text,
           l.sub_source AS source, l.fields, s.postback_url IS NOT NULL AS postback
    FROM leads l JOIN sources s ON s.id = l.source_id WHERE l.id = ${leadId}::uuid FOR UPDATE OF l`;
  return rows[0] ?? null;
}

export interface RoutingRules {
  routes: RoutingRoute[];
  partners: ReadonlyMap<string, RoutingPartner>;
}

/** How long the rules are used without asking PostgreSQL again (every write drops them at once; ADR 0009). */
export const RULES_CACHE_TTL_MS = 5_000;

/**
 * The active routes and every partner, as the routing decision reads them:
 * cached per worker process, and dropped on every worker when a route or
 * partner changes, so a change through the admin API applies to the next
 * lead. What depends on the moment (pause, schedule, caps) is checked again
 * from PostgreSQL when a partner's turn comes (`advanceLocked`).
 */
export function routingRules(deps: WorkerDeps): Promise<RoutingRules> {
  const load = async (): Promise<RoutingRules> => {
    const [routes, partners] = await Promise.all([
      deps.db.route.findMany({ where: { active: true }, include: { partners: true }, orderBy: { createdAt: 'asc' } }),
      deps.db.partner.findMany(),
    ]);
    return { routes: routes.map(toRoutingRoute), partners: new Map(partners.map((p) => [p.id, toRoutingPartner(p)])) };
  };
  const cache = deps.caches?.cache<'rules', RoutingRules>('rules', RULES_CACHE_TTL_MS);
  return cache ? cache.get('rules', load) : load();
}

/** Re-runs the advance step for a lead already routing (after a crash or a lost job). */
export async function advanceLead(deps: WorkerDeps, leadId: string): Promise<void> {
  const next = await deps.db.$transaction(async (tx): Promise<Followups> => {
    const locked = await lockLead(tx, leadId);
    if (!locked || locked.status !== 'routing' || !locked.routing) return NOTHING;
    return advanceLocked(tx, leadId, locked.routing, deps.now(), { postback: locked.postback });
  });
  await enqueueFollowups(deps, next);
}

const NOTHING: Followups = { deliveries: [], postbacks: [] };

/**
 * Enqueues what a committed transaction decided. If Redis fails here the
 * deliveries and postbacks stay pending in PostgreSQL and the sweeper
 * enqueues them.
 */
export async function enqueueFollowups(deps: WorkerDeps, next: Followups): Promise<void> {
  await enqueueDeliveries(deps, next.deliveries);
  for (const job of next.postbacks) await deps.queues.enqueuePostback(job);
}

export async function enqueueDeliveries(deps: WorkerDeps, jobs: DeliverJob[], delayMs = 0): Promise<void> {
  // If Redis fails here the deliveries stay pending in PostgreSQL and the sweeper enqueues them.
  for (const job of jobs) await deps.queues.enqueueDelivery(job, delayMs);
}

/** Round-robin position per route, shared by every worker through one Redis counter. */
async function nextRotation(deps: WorkerDeps, routeId: string): Promise<number> {
  const n = await deps.redis.incr(`${deps.config.QUEUE_PREFIX}:rr:${routeId}`);
  return n - 1;
}

function toRecord(decision: RouteDecision, strategy: string | undefined, now: Date): RoutingRecord {
  const decisions = skippedEntries(decision.skipped, now);
  if (decision.outcome === 'unmatched') {
    return {
      ...(decision.routeId ? { routeId: decision.routeId, routeName: decision.routeName, strategy } : {}),
      maxDeliveries: 0,
      candidates: [],
      reason: decision.reason,
      decisions,
    };
  }
  return {
    routeId: decision.routeId,
    routeName: decision.routeName,
    strategy,
    maxDeliveries: decision.maxDeliveries,
    candidates: decision.candidates,
    decisions,
  };
}
