import { createHash, randomUUID } from 'node:crypto';
import {
  storableText,
  type DeliveryStatus,
  type LeadFields,
  type LeadStatus,
  type PartnerDecisionEntry,
  type RoutingRecord,
  type TerminalStatus,
} from '@leadrouter/core';
import { decideFinalStatus, decideOffers, decideSupersede } from '@leadrouter/lifecycle';
import type { DeliverJob, PostbackJob } from '@leadrouter/queue';
import { capPeriods, checkCaps, describeLocalTime, isWithinSchedule } from '@leadrouter/routing';
import { PARTNER_ROW_JSON, type PartnerRow } from './partner-row.js';
import { sqlValue, statement, type SqlTx } from '@leadrouter/db';

/** What the lead's row lock reads: its state, its data (what routing looks at), whether its source wants postbacks. */
export interface LockedLead extends LeadFields {
  id: string;
  sourceId: string;
  status: LeadStatus;
  /** `leads.routing` as stored: read it with `readRoutingRecord`. */
  routing: unknown;
  postback: boolean;
}

/** One of the lead's deliveries, as the advance step counts them. */
export interface DeliveryState {
  id: string;
  partnerId: string;
  status: DeliveryStatus;
  attempts: number;
  /** When a pending delivery's next attempt is due; null once settled, or parked while its partner is paused. */
  nextAttemptAt: Date | null;
}

/** Takes the lead's row lock, reading it: every change to a lead's deliveries happens under it. */
export const LOCK_LEAD = statement(
  'lr_lock_lead',
  ['uuid'],
  `SELECT l.id::text, l.status::text, l.source_id::text AS "sourceId", l.name, l.phone, l.email, l.geo::text,
          l.sub_source AS source, l.fields, l.routing, s.postback_url IS NOT NULL AS postback
   FROM leads l JOIN sources s ON s.id = l.source_id WHERE l.id = $1 FOR UPDATE OF l`,
);

/** The lead's deliveries (read under its lock, in a statement after the one that took it). */
export const LEAD_DELIVERIES = statement(
  'lr_lead_deliveries',
  ['uuid'],
  `SELECT id::text, partner_id::text AS "partnerId", status::text AS status, attempts, next_attempt_at AS "nextAttemptAt"
   FROM deliveries WHERE lead_id = $1`,
);

const PARTNER_ROWS = statement(
  'lr_partner_rows',
  ['uuid[]'],
  `SELECT ${PARTNER_ROW_JSON} AS partner FROM partners p WHERE p.id = ANY($1)`,
);

/**
 * Everything an advance step writes, in one statement sent with the commit:
 * the new deliveries ($4 ids, $5 partners, due at $6), the routing record
 * and the status ($3, unchanged when null) in one update, the events in
 * order ($7 statuses, $8 partners, $9 details), and the postback for a
 * final status ($10) when the source has a postback URL — one per lead and
 * status: a dead letter retried to `delivered` reports again, a repeat of
 * the same status does not. Data-modifying parts of a WITH all run to
 * completion, whether or not the final SELECT reads them.
 */
const ADVANCE = statement(
  'lr_advance',
  [
    'uuid',
    'jsonb',
    '"LeadStatus"',
    'uuid[]',
    'uuid[]',
    'timestamptz',
    '"LeadStatus"[]',
    'uuid[]',
    'jsonb[]',
    '"LeadStatus"',
  ],
  `WITH
   offered AS (
     INSERT INTO deliveries (id, lead_id, partner_id, next_attempt_at, created_at, updated_at)
     SELECT o.id, $1, o.partner_id, $6, $6, now() FROM unnest($4, $5) AS o (id, partner_id)),
   lead AS (UPDATE leads SET routing = $2, status = coalesce($3, status), updated_at = now() WHERE id = $1),
   events AS (
     INSERT INTO lead_events (lead_id, status, partner_id, detail)
     SELECT $1, e.status, e.partner_id, e.detail
     FROM unnest($7, $8, $9) WITH ORDINALITY AS e (status, partner_id, detail, n) ORDER BY e.n),
   postback AS (
     INSERT INTO postbacks (id, lead_id, source_id, lead_status, next_attempt_at, updated_at)
     SELECT gen_random_uuid(), l.id, l.source_id, $10, now(), now()
     FROM leads l JOIN sources s ON s.id = l.source_id
     WHERE $10 IS NOT NULL AND l.id = $1 AND s.postback_url IS NOT NULL
     ON CONFLICT (lead_id, lead_status) DO NOTHING
     RETURNING id)
   SELECT id::text FROM postback`,
);

/**
 * Marks dead letters ($2, of lead $1) superseded: the lead can no longer use
 * them (`decideSupersede`, @leadrouter/lifecycle). Only those still dead-lettered: run
 * under the lead's lock, like every change to its deliveries.
 */
export const SUPERSEDE = statement(
  'lr_supersede',
  ['uuid', 'uuid[]'],
  `UPDATE deliveries SET status = 'superseded', next_attempt_at = NULL, updated_at = now()
   WHERE lead_id = $1 AND id = ANY($2) AND status = 'dead_lettered'`,
);

/** What to enqueue once the transaction that decided it has committed. */
export interface Followups {
  deliveries: DeliverJob[];
  postbacks: PostbackJob[];
  /** The partner of each new delivery, by delivery id, as read when it was offered the lead. */
  partners?: ReadonlyMap<string, PartnerRow>;
}

export const NOTHING: Followups = { deliveries: [], postbacks: [] };

/** What the caller of `advanceAndCommit` knows already. */
export interface AdvanceOptions {
  /** The lead's deliveries, read under its lock. */
  deliveries: DeliveryState[];
  /** Whether the lead's source has a postback URL (read with the lock). */
  postback: boolean;
  /** What a delivery that just finished decided. */
  outcome?: PartnerDecisionEntry;
  /** A status the lead moves into first (with its event), written in the same update as the routing record. */
  entering?: { status: LeadStatus; detail?: Record<string, unknown> };
}

/**
 * Moves a routing lead forward, under its row lock, and commits: offers it
 * to the next candidates until `maxDeliveries` accept (waterfall on
 * rejection or dead letter), skipping — and saying why — partners that
 * became inactive, paused, are outside their schedule or at a cap; then
 * settles the final status once nothing is pending and nothing is left to
 * try; a lead sold to `maxDeliveries` partners has its dead letters
 * superseded. `outcome` records what a delivery that just finished decided.
 * Idempotent: running it again changes nothing. Everything it writes goes
 * in the message that commits. Returns the delivery (and postback) jobs to
 * enqueue now that it has committed.
 */
export async function advanceAndCommit(
  tx: SqlTx,
  leadId: string,
  record: RoutingRecord,
  now: Date,
  { outcome, entering, deliveries, postback }: AdvanceOptions,
): Promise<Followups> {
  const routing: RoutingRecord = { ...record, decisions: [...record.decisions] };
  if (outcome) setDecision(routing, outcome);

  const next = decideOffers(routing, deliveries);
  let offered: Offered[] = [];
  switch (next.outcome) {
    case 'offer':
      offered = await offer(tx, routing, next.untried, next.need, now);
      break;
    case 'none':
      break;
  }
  const jobs = offered.map((o) => ({ deliveryId: o.deliveryId, attempt: 1 }));

  const events: { status: LeadStatus; partnerId: string | null; detail: string | null }[] = [];
  if (entering)
    events.push({ status: entering.status, partnerId: null, detail: JSON.stringify(entering.detail ?? null) });
  let final: TerminalStatus | undefined;
  let superseded: string[] = [];
  const settled = decideFinalStatus(deliveries, offered.length);
  switch (settled.outcome) {
    case 'open':
      break;
    case 'delivered': {
      final = settled.outcome;
      events.push({ status: final, partnerId: settled.partnerId, detail: null });
      const supersede = decideSupersede(deliveries, routing.maxDeliveries);
      switch (supersede.outcome) {
        case 'keep':
          break;
        case 'supersede':
          superseded = supersede.deliveryIds;
          break;
      }
      break;
    }
    case 'dead_lettered':
    case 'unsold':
    case 'unmatched':
      final = settled.outcome;
      events.push({ status: final, partnerId: null, detail: null });
      break;
  }
  const [created = []] = await tx.commit([
    tx.call(
      ADVANCE,
      leadId,
      routing,
      final ?? entering?.status ?? null,
      offered.map((o) => o.deliveryId),
      offered.map((o) => o.partnerId),
      now,
      events.map((e) => e.status),
      events.map((e) => e.partnerId),
      events.map((e) => e.detail),
      final !== undefined && postback ? final : null,
    ),
    ...(superseded.length > 0 ? [tx.call(SUPERSEDE, leadId, superseded)] : []),
  ]);
  return {
    deliveries: jobs,
    postbacks: created.map((r) => ({ postbackId: String(r.id), attempt: 1 })),
    partners: new Map(offered.map((o) => [o.deliveryId, o.partner])),
  };
}

function setDecision(routing: RoutingRecord, given: PartnerDecisionEntry): void {
  // Reasons may quote a partner (its answer, its pause reason): the record is JSONB, which takes no NUL nor lone surrogate.
  const entry = given.reason === undefined ? given : { ...given, reason: storableText(given.reason) };
  const i = routing.decisions.findIndex((d) => d.partnerId === entry.partnerId);
  if (i >= 0) routing.decisions[i] = entry;
  else routing.decisions.push(entry);
}

/** A partner just offered the lead: its new delivery. */
interface Offered {
  partnerId: string;
  deliveryId: string;
  partner: PartnerRow;
}

/**
 * Offers the lead to the first `need` candidates that can take it now,
 * recording each one skipped and why. Candidates are checked a batch of
 * `need` at a time (usually one round trip), so a partner further down the
 * list is neither read nor locked when the first ones take the lead.
 */
async function offer(
  tx: SqlTx,
  routing: RoutingRecord,
  candidates: string[],
  need: number,
  now: Date,
): Promise<Offered[]> {
  const offered: Offered[] = [];
  for (let i = 0; offered.length < need && i < candidates.length;) {
    const batch = candidates.slice(i, i + need - offered.length);
    i += batch.length;
    const { partners, skips } = await eligibility(tx, batch, now);
    for (const partnerId of batch) {
      const skip = skips.get(partnerId);
      const partner = partners.get(partnerId);
      if (skip || !partner) {
        setDecision(routing, {
          partnerId,
          decision: 'skipped',
          reason: skip ?? 'partner no longer exists',
          at: now.toISOString(),
        });
        continue;
      }
      setDecision(routing, { partnerId, decision: 'offered', at: now.toISOString() });
      offered.push({ partnerId, deliveryId: randomUUID(), partner });
    }
  }
  return offered;
}

/**
 * Why each candidate cannot take the lead right now (absent when it can),
 * read fresh from PostgreSQL. Caps are counted there — deliveries pending
 * or accepted in the partner's current hour and day — under an advisory
 * lock per partner, taken before the count in the same transaction, so
 * workers creating deliveries at the same time cannot both take the last
 * slot. A rejected or dead-lettered delivery stops counting: its slot is
 * given back. Uncapped partners cost one round trip for the whole batch,
 * capped ones a second.
 */
async function eligibility(
  tx: SqlTx,
  partnerIds: string[],
  now: Date,
): Promise<{ partners: Map<string, PartnerRow>; skips: Map<string, string> }> {
  const [rows = []] = await tx.run([tx.call(PARTNER_ROWS, partnerIds)]);
  const states = new Map(rows.map((r) => [(r.partner as PartnerRow).id, r.partner as PartnerRow]));
  const skips = new Map<string, string>();
  const capped: PartnerRow[] = [];
  for (const id of partnerIds) {
    const partner = states.get(id);
    if (!partner) skips.set(id, 'partner no longer exists');
    else if (!partner.active) skips.set(id, 'partner is inactive');
    else if (partner.paused)
      skips.set(id, `partner is paused${partner.pauseReason ? ` (${partner.pauseReason})` : ''}`);
    else if (!isWithinSchedule(partner.schedule, now))
      skips.set(id, `outside its schedule (${describeLocalTime(now, partner.schedule?.timezone)})`);
    else if (partner.capHourly !== null || partner.capDaily !== null) capped.push(partner);
  }
  if (capped.length === 0) return { partners: states, skips };

  // Locks in a fixed order, so two transactions locking the same partners never deadlock.
  const locks = capped
    .map((p) => capLockKey(p.id))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((key) => `SELECT pg_advisory_xact_lock(${sqlValue(key, 'bigint')})`);
  const periods = capped.map((p) => {
    const { hourStart, dayStart } = capPeriods(now, p.schedule?.timezone);
    return `(${sqlValue(p.id, 'uuid')}, ${sqlValue(hourStart, 'timestamptz')}, ${sqlValue(dayStart, 'timestamptz')})`;
  });
  const results = await tx.run([
    ...locks,
    `SELECT c.id::text, count(d.id) FILTER (WHERE d.created_at >= c.hour_start)::int AS hour, count(d.id)::int AS day
     FROM (VALUES ${periods.join(', ')}) AS c (id, hour_start, day_start)
     LEFT JOIN deliveries d
       ON d.partner_id = c.id AND d.status IN ('pending', 'accepted') AND d.created_at >= c.day_start
     GROUP BY c.id`,
  ]);
  const used = new Map(
    (results.at(-1) as Record<string, unknown>[]).map((r) => [String(r.id), r as { hour: number; day: number }]),
  );
  for (const partner of capped) {
    const check = checkCaps(
      { hourly: partner.capHourly, daily: partner.capDaily },
      { hour: used.get(partner.id)?.hour ?? 0, day: used.get(partner.id)?.day ?? 0 },
    );
    if (!check.ok) skips.set(partner.id, check.reason);
  }
  return { partners: states, skips };
}

function capLockKey(partnerId: string): bigint {
  return createHash('sha256').update(`cap:${partnerId}`).digest().readBigInt64BE(0);
}
