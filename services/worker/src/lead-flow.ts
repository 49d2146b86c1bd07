import { createHash } from 'node:crypto';
import type { LeadStatus, Schedule } from '@leadrouter/core';
import type { Prisma } from '@leadrouter/db';
import type { DeliverJob, PostbackJob } from '@leadrouter/queue';
import { capPeriods, checkCaps, describeLocalTime, isWithinSchedule, type Skipped } from '@leadrouter/routing';

type Tx = Prisma.TransactionClient;

/** What happened to one candidate partner, for the lead's history (explainable routing). */
export type PartnerDecision = 'skipped' | 'offered' | 'accepted' | 'rejected' | 'dead_lettered';

export interface DecisionEntry {
  partnerId: string;
  decision: PartnerDecision;
  reason?: string;
  at: string;
}

/** What the lead's routing left in `leads.routing`: the decision, and each candidate's fate. */
export interface RoutingRecord {
  routeId?: string;
  routeName?: string;
  strategy?: string;
  maxDeliveries: number;
  /** Eligible partners at decision time, in the order to offer the lead. */
  candidates: string[];
  /** Why no partner could be offered, when none could. */
  reason?: string;
  decisions: DecisionEntry[];
}

const SKIP_TEXT: Record<Skipped['reason'], string> = {
  inactive: 'partner is inactive',
  paused: 'partner is paused',
  filter: 'partner filters do not match',
  missing: 'partner no longer exists',
};

export function skippedEntries(skipped: Skipped[], now: Date): DecisionEntry[] {
  return skipped.map((s) => ({
    partnerId: s.partnerId,
    decision: 'skipped',
    reason: s.detail ? `${SKIP_TEXT[s.reason]}: ${s.detail}` : SKIP_TEXT[s.reason],
    at: now.toISOString(),
  }));
}

/** What `lockLead` reads: the lead's state, and whether its source wants postbacks. */
export interface LockedLead {
  status: LeadStatus;
  routing: RoutingRecord | null;
  postback: boolean;
}

/** Takes the lead's row lock: every change to a lead's deliveries happens under it. */
export async function lockLead(tx: Tx, leadId: string): Promise<LockedLead | null> {
  const rows = await tx.$queryRaw<LockedLead[]>`
    SELECT l.status, l.routing, s.postback_url IS NOT NULL AS postback
    FROM leads l JOIN sources s ON s.id = l.source_id WHERE l.id = ${leadId}::uuid FOR UPDATE OF l`;
  return rows[0] ?? null;
}

/** What the caller of `advanceLocked` knows already, each saving a round trip. */
export interface AdvanceOptions {
  /** What a delivery that just finished decided. */
  outcome?: DecisionEntry;
  /** A status the lead moves into first (with its event), written in the same update as the routing record. */
  entering?: { status: LeadStatus; detail?: Prisma.InputJsonValue };
  /** The lead's deliveries, when known (a lead being routed has none yet). */
  deliveries?: { partnerId: string; status: string }[];
  /** Whether the lead's source has a postback URL (`lockLead`); when unknown, the postback insert checks. */
  postback?: boolean;
}

/** What to enqueue once the transaction that decided it has committed. */
export interface Followups {
  deliveries: DeliverJob[];
  postbacks: PostbackJob[];
}

/**
 * Moves a routing lead forward, under its row lock: offers it to the next
 * candidates until `maxDeliveries` accept (waterfall on rejection or dead
 * letter), skipping — and saying why — partners that became inactive, paused,
 * are outside their schedule or at a cap; then settles the final status once
 * nothing is pending and nothing is left to try. `outcome` records what a
 * delivery that just finished decided. Idempotent: running it again changes
 * nothing. Returns the delivery (and postback) jobs to enqueue after commit.
 */
export async function advanceLocked(
  tx: Tx,
  leadId: string,
  record: RoutingRecord,
  now: Date,
  { outcome, entering, deliveries: known, postback }: AdvanceOptions = {},
): Promise<Followups> {
  const routing: RoutingRecord = { ...record, decisions: [...(record.decisions ?? [])] };
  if (outcome) setDecision(routing, outcome);

  const deliveries =
    known ?? (await tx.delivery.findMany({ where: { leadId }, select: { partnerId: true, status: true } }));
  const accepted = deliveries.filter((d) => d.status === 'accepted');
  const pending = deliveries.filter((d) => d.status === 'pending').length;
  const tried = new Set([...deliveries.map((d) => d.partnerId), ...routing.decisions.map((d) => d.partnerId)]);

  const jobs: DeliverJob[] = [];
  let need = routing.maxDeliveries - accepted.length - pending;
  for (const partnerId of routing.candidates) {
    if (need <= 0) break;
    if (tried.has(partnerId)) continue;
    const skip = await eligibility(tx, partnerId, now);
    if (skip) {
      setDecision(routing, { partnerId, decision: 'skipped', reason: skip, at: now.toISOString() });
      continue;
    }
    const delivery = await tx.delivery.create({
      data: { leadId, partnerId, nextAttemptAt: now, createdAt: now },
      select: { id: true },
    });
    setDecision(routing, { partnerId, decision: 'offered', at: now.toISOString() });
    jobs.push({ deliveryId: delivery.id, attempt: 1 });
    need--;
  }

  const final: LeadStatus | undefined =
    pending + jobs.length > 0
      ? undefined
      : accepted.length > 0
        ? 'delivered'
        : deliveries.some((d) => d.status === 'dead_lettered')
          ? 'dead_lettered'
          : deliveries.some((d) => d.status === 'rejected')
            ? 'unsold'
            : 'unmatched';
  // The routing record and the status in one update; the events in order (entering, then final).
  const status = final ?? entering?.status;
  await tx.lead.update({
    where: { id: leadId },
    data: { routing: routing as unknown as Prisma.InputJsonValue, ...(status ? { status } : {}) },
  });
  const events: Prisma.LeadEventCreateManyInput[] = [];
  if (entering)
    events.push({ leadId, status: entering.status, ...(entering.detail ? { detail: entering.detail } : {}) });
  if (final)
    events.push({ leadId, status: final, partnerId: final === 'delivered' ? (accepted[0]?.partnerId ?? null) : null });
  if (events.length > 0) await tx.leadEvent.createMany({ data: events });
  if (!final || postback === false) return { deliveries: jobs, postbacks: [] };
  return { deliveries: jobs, postbacks: await createPostback(tx, leadId, final) };
}

/**
 * A postback for the lead's final status, when its source has a postback URL
 * (one per lead and status: a dead letter retried to `delivered` reports
 * again, a repeat of the same status does not).
 */
async function createPostback(tx: Tx, leadId: string, status: LeadStatus): Promise<PostbackJob[]> {
  const rows = await tx.$queryRaw<{ id: string }[]>`
    INSERT INTO postbacks (id, lead_id, source_id, lead_status, next_attempt_at, updated_at)
    SELECT gen_random_uuid(), l.id, l.source_id, ${status}::"LeadStatus", now(), now()
    FROM leads l JOIN sources s ON s.id = l.source_id
    WHERE l.id = ${leadId}::uuid AND s.postback_url IS NOT NULL
    ON CONFLICT (lead_id, lead_status) DO NOTHING
    RETURNING id`;
  return rows.map((r) => ({ postbackId: r.id, attempt: 1 }));
}

function setDecision(routing: RoutingRecord, entry: DecisionEntry): void {
  const i = routing.decisions.findIndex((d) => d.partnerId === entry.partnerId);
  if (i >= 0) routing.decisions[i] = entry;
  else routing.decisions.push(entry);
}

/**
 * Why a candidate cannot take the lead right now, or null when it can. Caps
 * are counted in PostgreSQL — deliveries pending or accepted in the
 * partner's current hour and day — under an advisory lock per partner, so
 * workers creating deliveries at the same time cannot both take the last
 * slot. A rejected or dead-lettered delivery stops counting: its slot is
 * given back.
 */
async function eligibility(tx: Tx, partnerId: string, now: Date): Promise<string | null> {
  const partner = await tx.partner.findUnique({
    where: { id: partnerId },
    select: { active: true, pausedAt: true, pauseReason: true, schedule: true, capHourly: true, capDaily: true },
  });
  if (!partner) return 'partner no longer exists';
  if (!partner.active) return 'partner is inactive';
  if (partner.pausedAt) return `partner is paused${partner.pauseReason ? ` (${partner.pauseReason})` : ''}`;
  const schedule = partner.schedule as Schedule | null;
  if (!isWithinSchedule(schedule, now)) return `outside its schedule (${describeLocalTime(now, schedule?.timezone)})`;
  if (partner.capHourly === null && partner.capDaily === null) return null;

  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${capLockKey(partnerId)}::bigint)`;
  const { hourStart, dayStart } = capPeriods(now, schedule?.timezone);
  const [used] = await tx.$queryRaw<{ hour: bigint; day: bigint }[]>`
    SELECT count(*) FILTER (WHERE created_at >= ${hourStart}) AS hour, count(*) AS day
    FROM deliveries
    WHERE partner_id = ${partnerId}::uuid AND status IN ('pending', 'accepted') AND created_at >= ${dayStart}`;
  const check = checkCaps(
    { hourly: partner.capHourly, daily: partner.capDaily },
    { hour: Number(used?.hour ?? 0), day: Number(used?.day ?? 0) },
  );
  return check.ok ? null : check.reason;
}

function capLockKey(partnerId: string): bigint {
  return createHash('sha256').update(`cap:${partnerId}`).digest().readBigInt64BE(0);
}
