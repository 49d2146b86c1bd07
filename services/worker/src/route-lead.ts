import { decideRoute, selectRoute, type RouteDecision } from '@leadrouter/routing';
import type { DeliverJob } from '@leadrouter/queue';
import type { WorkerDeps } from './deps.js';
import { advanceLocked, lockLead, setStatus, skippedEntries, type Followups, type RoutingRecord } from './lead-flow.js';
import { toRoutingLead, toRoutingPartner, toRoutingRoute } from './mappers.js';

/**
 * The `route` job: decide the lead's route and candidates once, then start
 * delivering. A repeat (sweeper, stalled job) of a lead already routing only
 * advances it, which is idempotent.
 */
export async function routeLead(deps: WorkerDeps, leadId: string): Promise<void> {
  const { db } = deps;
  const lead = await db.lead.findUnique({ where: { id: leadId } });
  if (!lead) return;
  if (lead.status !== 'queued') return advanceLead(deps, leadId);

  // Rules are read for every lead, so a change through the admin API applies to the next one.
  const [routes, partners] = await Promise.all([
    db.route.findMany({ where: { active: true }, include: { partners: true }, orderBy: { createdAt: 'asc' } }),
    db.partner.findMany(),
  ]);
  const routingLead = toRoutingLead(lead);
  const routingRoutes = routes.map(toRoutingRoute);
  const selected = selectRoute(routingLead, routingRoutes);
  const rotation = selected?.strategy === 'round_robin' ? await nextRotation(deps, selected.id) : 0;
  const decision = decideRoute({
    lead: routingLead,
    routes: routingRoutes,
    partners: new Map(partners.map((p) => [p.id, toRoutingPartner(p)])),
    rotation,
    random: deps.random,
  });
  const now = deps.now();
  const record = toRecord(decision, selected?.strategy, now);

  const next = await db.$transaction(async (tx): Promise<Followups> => {
    const locked = await lockLead(tx, leadId);
    if (!locked || locked.status !== 'queued') return NOTHING;
    await setStatus(tx, leadId, 'routing', undefined, { route: record.routeName ?? null });
    return advanceLocked(tx, leadId, record, now);
  });
  deps.metrics?.leadsRouted.inc({ outcome: decision.outcome });
  deps.log.info(
    { leadId, outcome: decision.outcome, route: record.routeName, deliveries: next.deliveries.length },
    'lead routed',
  );
  await enqueueFollowups(deps, next);
}

/** Re-runs the advance step for a lead already routing (after a crash or a lost job). */
export async function advanceLead(deps: WorkerDeps, leadId: string): Promise<void> {
  const next = await deps.db.$transaction(async (tx): Promise<Followups> => {
    const locked = await lockLead(tx, leadId);
    if (!locked || locked.status !== 'routing' || !locked.routing) return NOTHING;
    return advanceLocked(tx, leadId, locked.routing, deps.now());
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
