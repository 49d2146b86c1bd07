import {
  compile,
  invalid,
  regexErrors,
  toFieldErrors,
  type FieldError,
  type Filters,
  type Schedule,
} from '@leadrouter/core';
import {
  DRY_RUN_DEFAULT_LEADS,
  DryRunRequest as DryRunRequestSchema,
  type DraftRoute,
  type DryRunBody,
} from '@leadrouter/api';
import { LATEST_KEPT_LEADS, runStatement, sqlPool, type Db, type StatementRow } from '@leadrouter/db';
import {
  REPLAY_LIMITS,
  replayedRouteOf,
  replayRoute,
  seededRandom,
  type Replay,
  type ReplayPartner,
  type ReplayRules,
  type RoutingLead,
  type RoutingRoute,
} from '@leadrouter/routing';

/** Changed leads shown in an answer. */
export const DRY_RUN_SAMPLE = 25;

const validateRequest = compile<DryRunBody>(DryRunRequestSchema);

export interface DryRunRequest {
  /** The draft, as `routes` (a whole set) or `route` (one route, the others as stored). */
  draft: { routes: DraftRoute[] } | { route: DraftRoute };
  limit: number;
}

/**
 * The request, checked: its shape, every partner a draft route names exists,
 * and its regex patterns compile (each problem by its field).
 */
export async function parseDryRun(db: Db, body: unknown): Promise<DryRunRequest> {
  if (!validateRequest(body)) throw invalid(toFieldErrors(validateRequest.errors));
  const errors: FieldError[] = [];
  if ((body.routes === undefined) === (body.route === undefined))
    errors.push({ message: 'give either `routes` (the whole draft set) or `route` (one draft route), not both' });
  const drafts: [string, DraftRoute][] = body.routes
    ? body.routes.map((r, i) => [`/routes/${i}`, r])
    : body.route
      ? [['/route', body.route]]
      : [];
  const ids = [...new Set(drafts.flatMap(([, r]) => r.partners.map((p) => p.partnerId.toLowerCase())))];
  const known = new Set(
    (await db.partner.findMany({ where: { id: { in: ids } }, select: { id: true } })).map((p) => p.id),
  );
  for (const [at, r] of drafts) {
    r.partners.forEach((p, i) => {
      if (!known.has(p.partnerId.toLowerCase()))
        errors.push({ field: `${at}/partners/${i}/partnerId`, message: 'is not a known partner id' });
    });
    // A draft's patterns are checked as saving would check them (ADR 0013).
    errors.push(...regexErrors(r.filters, `${at}/filters`));
  }
  if (errors.length) throw invalid(errors);
  return {
    draft: body.routes ? { routes: body.routes } : { route: body.route! },
    limit: body.limit ?? DRY_RUN_DEFAULT_LEADS,
  };
}

/** One lead in the answer's sample: what the draft would offer it, what the stored rules would, what happened. */
export interface DryRunLead {
  leadId: string;
  createdAt: string;
  draft: Omit<Replay, 'skipped'> & { skipped: Replay['skipped'] };
  current: Omit<Replay, 'skipped'>;
  /** The partners it was really offered to (deliveries of any outcome, waterfall included). */
  actual: { offered: string[] };
}

export interface DryRunAnswer {
  /** How many stored leads were replayed (the most recent ones, up to `limit`), and the time they span. */
  leads: number;
  from: string | null;
  to: string | null;
  /** What a replay cannot check (caps, partners' answers, …). */
  notReplayed: string[];
  /**
   * Per partner, leads offered first: under the draft, under the rules as stored (replayed the same way, so the
   * difference is the draft's doing), and really (deliveries, any outcome). Partners with any count.
   */
  partners: { partnerId: string; name: string; draft: number; current: number; actual: number }[];
  /** Leads offered to no partner. */
  unrouted: { draft: number; current: number; actual: number };
  /** Leads whose first offers differ between the draft and the stored rules. */
  changed: number;
  /** The most recent changed leads. */
  sample: DryRunLead[];
}

type LeadRow = StatementRow<typeof LATEST_KEPT_LEADS>;

/**
 * `POST /v1/admin/routes/dry-run`: the last `limit` stored leads routed by the
 * draft beside the stored rules and what really happened, per partner. A pure
 * replay (`replayRoute`): nothing is sent, written or counted. Leads whose
 * personal data was erased are not replayed: what the filters read is gone.
 */
export async function dryRun(db: Db, req: DryRunRequest): Promise<DryRunAnswer> {
  const [routeRows, partnerRows, leadRows] = await Promise.all([
    db.route.findMany({ include: { partners: true }, orderBy: { createdAt: 'asc' } }),
    db.partner.findMany({
      select: { id: true, name: true, active: true, pausedAt: true, filters: true, schedule: true },
    }),
    runStatement(sqlPool(db), LATEST_KEPT_LEADS, { limit: req.limit }),
  ]);
  const deliveries = await db.delivery.findMany({
    where: { leadId: { in: leadRows.map((l) => l.id) } },
    select: { leadId: true, partnerId: true },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
  });

  const partners = new Map<string, ReplayPartner>(
    partnerRows.map((p) => [
      p.id,
      {
        id: p.id,
        name: p.name,
        active: p.active,
        paused: p.pausedAt !== null,
        filters: p.filters as Filters | null,
        schedule: p.schedule as Schedule | null,
      },
    ]),
  );
  const stored: RoutingRoute[] = routeRows.map((r) => ({
    id: r.id,
    name: r.name,
    priority: r.priority,
    active: r.active,
    filters: r.filters as Filters | null,
    strategy: r.strategy,
    maxDeliveries: r.maxDeliveries,
    partners: [...r.partners]
      .sort((a, b) => a.position - b.position)
      .map((p) => ({ partnerId: p.partnerId, weight: p.weight })),
  }));
  const current: ReplayRules = { routes: stored, partners };
  const draft: ReplayRules = { routes: draftRoutes(stored, req.draft), partners };

  const actual = new Map<string, string[]>();
  for (const d of deliveries) actual.set(d.leadId, [...(actual.get(d.leadId) ?? []), d.partnerId]);

  const counts = new Map<string, { draft: number; current: number; actual: number }>();
  const count = (id: string, key: 'draft' | 'current' | 'actual') => {
    const c = counts.get(id) ?? { draft: 0, current: 0, actual: 0 };
    c[key]++;
    counts.set(id, c);
  };
  const unrouted = { draft: 0, current: 0, actual: 0 };
  const rotations = { draft: new Map<string, number>(), current: new Map<string, number>() };
  const replay = (which: 'draft' | 'current', lead: RoutingLead, row: LeadRow, rules: ReplayRules) => {
    const route = replayedRouteOf(lead, rules);
    const position = route ? (rotations[which].get(route.id) ?? 0) : 0;
    if (route?.strategy === 'round_robin') rotations[which].set(route.id, position + 1);
    return replayRoute(lead, row.createdAt, rules, position, seededRandom(row.id));
  };

  let changed = 0;
  const sample: DryRunLead[] = [];
  // Oldest first, so round-robin positions advance in the order the leads arrived; the sample keeps the newest.
  for (const row of [...leadRows].reverse()) {
    const lead: RoutingLead = {
      sourceId: row.sourceId,
      name: row.name,
      phone: row.phone,
      email: row.email,
      geo: row.geo,
      source: row.source,
      fields: row.fields,
    };
    const d = replay('draft', lead, row, draft);
    const c = replay('current', lead, row, current);
    const a = actual.get(row.id) ?? [];
    for (const id of d.offered) count(id, 'draft');
    for (const id of c.offered) count(id, 'current');
    for (const id of a) count(id, 'actual');
    if (d.offered.length === 0) unrouted.draft++;
    if (c.offered.length === 0) unrouted.current++;
    if (a.length === 0) unrouted.actual++;
    if (!sameSet(d.offered, c.offered)) {
      changed++;
      const { skipped: _ignored, ...currentView } = c;
      sample.unshift({
        leadId: row.id,
        createdAt: row.createdAt.toISOString(),
        draft: d,
        current: currentView,
        actual: { offered: a },
      });
      if (sample.length > DRY_RUN_SAMPLE) sample.pop();
    }
  }

  return {
    leads: leadRows.length,
    from: leadRows.at(-1)?.createdAt.toISOString() ?? null,
    to: leadRows[0]?.createdAt.toISOString() ?? null,
    notReplayed: REPLAY_LIMITS,
    partners: [...counts.entries()]
      .map(([partnerId, c]) => ({ partnerId, name: partners.get(partnerId)?.name ?? partnerId, ...c }))
      .sort((x, y) => x.name.localeCompare(y.name)),
    unrouted,
    changed,
    sample,
  };
}

/** The stored routes with the draft applied: a whole new set, or one route replacing its stored self (or added). */
function draftRoutes(stored: RoutingRoute[], draft: DryRunRequest['draft']): RoutingRoute[] {
  const toRule = (r: DraftRoute, i: number): RoutingRoute => ({
    id: r.id?.toLowerCase() ?? `draft-${i}`,
    name: r.name,
    priority: r.priority,
    active: r.active ?? true,
    filters: r.filters ?? null,
    strategy: r.strategy,
    maxDeliveries: r.maxDeliveries ?? 1,
    partners: r.partners.map((p) => ({ partnerId: p.partnerId.toLowerCase(), weight: p.weight ?? 1 })),
  });
  if ('routes' in draft) return draft.routes.map(toRule);
  const one = toRule(draft.route, 0);
  const replaced = stored.findIndex((r) => r.id === one.id);
  // In place: among routes of equal priority, the one created first decides, and the edit keeps that place.
  return replaced >= 0 ? stored.map((r, i) => (i === replaced ? one : r)) : [...stored, one];
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));
