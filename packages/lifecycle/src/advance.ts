import { uuidv7 } from 'uuidv7';
import {
  storableText,
  type LeadStatus,
  type PartnerDecisionEntry,
  type RoutingRecord,
  type TerminalStatus,
} from '@leadrouter/core/runtime';
import { describeLocalTime, hasCaps, isWithinSchedule } from '@leadrouter/routing';
import {
  advanceStatement,
  LEAD_ENTRIES,
  PARTNER_ROWS,
  SUPERSEDE,
  type PartnerRow,
  type LEAD_DELIVERIES,
  type ADVANCE,
  type SqlTx,
  type StatementParams,
  type StatementRow,
} from '@leadrouter/db';
import { decideFinalStatus, decideOffers, decideUnreadableRecord } from './decide/advance.js';
import { settledMoney, type SettledMoney, type SettlingLine } from './decide/feedback.js';
import { decideSupersede } from './decide/superseded.js';
import { capsOf, checkCapped, counterCalls, type CapReservation, type CounterChange } from './caps.js';
import { attemptLeaseUntil } from './attempt-lease.js';
import { NOTHING, type FlowLog, type Followups } from './flow.js';

/** One of the lead's deliveries, as the advance step counts them. */
export type DeliveryState = Pick<
  StatementRow<typeof LEAD_DELIVERIES>,
  'id' | 'partnerId' | 'status' | 'attempts' | 'nextAttemptAt'
>;

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
  /**
   * Statements committed in the same message, last, after the advance's own: what
   * the event that caused the advance writes with it (`commitDeliveryAccepted`: a sale's lines, a combinable
   * call that must end the message).
   */
  commitWith?: readonly string[];
  /**
   * What the event that caused the advance changes of the cap counters (a
   * slot given back, a sale's price): written with the slots the advance
   * takes, in one statement (ADR 0030).
   */
  counters?: readonly CounterChange[];
  /**
   * The lead's ledger as it will be once `commitWith` is written, when the
   * caller read it under the lock (a sale's commit: `saleCalls`); else it is
   * read here, only when the lead settles `delivered` (`settlingMoney`).
   */
  entries?: readonly SettlingLine[];
  /**
   * The caller makes the new deliveries' first attempts at once (`deliverNow`): each is created leased to it
   * (`attemptLeaseUntil`), so no other job sends it meanwhile.
   */
  attemptAtOnce?: boolean;
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
  { outcome, entering, deliveries, postback, commitWith = [], counters = [], entries, attemptAtOnce }: AdvanceOptions,
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
  const leases = new Map(
    attemptAtOnce ? offered.map((o) => [o.deliveryId, attemptLeaseUntil(o.partner, now)] as const) : [],
  );

  const events: { status: LeadStatus; partnerId: string | null; detail: string | null }[] = [];
  if (entering)
    events.push({ status: entering.status, partnerId: null, detail: JSON.stringify(entering.detail ?? null) });
  let final: TerminalStatus | undefined;
  /** The status the lead settles in: `final`, or what its money made of a sale meanwhile. */
  let status: LeadStatus | undefined;
  let postbackAt: Date | null = null;
  let superseded: string[] = [];
  const settled = decideFinalStatus(deliveries, offered.length);
  switch (settled.outcome) {
    case 'open':
      break;
    case 'delivered': {
      final = settled.outcome;
      events.push({ status: final, partnerId: settled.partnerId, detail: null });
      const money = await settlingMoney(tx, leadId, entries);
      status = money.status;
      postbackAt = money.postbackAt;
      if (money.status !== 'delivered') events.push({ status: money.status, partnerId: money.partnerId, detail: null });
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
      final = status = settled.outcome;
      events.push({ status: final, partnerId: null, detail: null });
      break;
  }
  const advance: StatementParams<typeof ADVANCE> = {
    leadId,
    routing,
    status: status ?? entering?.status ?? null,
    deliveryIds: offered.map((o) => o.deliveryId),
    partnerIds: offered.map((o) => o.partnerId),
    capAmounts: offered.map((o) => o.reservation?.reserved ?? null),
    leasedUntil: offered.map((o) => leases.get(o.deliveryId) ?? null),
    dueAt: now,
    eventStatuses: events.map((e) => e.status),
    eventPartners: events.map((e) => e.partnerId),
    eventDetails: events.map((e) => e.detail),
    // The source is told the lead was sold (`delivered`, with its sale's payout); a conversion or return that
    // came while it was routing was told with its own postback then.
    postbackStatus: final !== undefined && postback ? final : null,
    postbackAt,
  };
  const [created] = await tx.commit([
    tx.call(advanceStatement(advance), advance),
    ...(superseded.length > 0 ? [tx.call(SUPERSEDE, { leadId, ids: superseded })] : []),
    // The slots the new deliveries take, in the message that creates them (the partners' locks are held), with
    // what the event that caused the advance gives back or corrects: one statement, rows in key order.
    ...counterCalls(tx, [...offered.flatMap((o) => o.reservation?.rows ?? []), ...counters]),
    ...commitWith,
  ]);
  return {
    deliveries: jobs,
    postbacks: created.map((r) => ({ postbackId: r.id, attempt: 1 })),
    ...(final !== undefined ? { settled: leadId } : {}),
    offers: new Map(
      offered.map((o) => [
        o.deliveryId,
        {
          partner: o.partner,
          createdAt: now,
          capAmount: o.reservation?.reserved ?? null,
          leasedUntil: leases.get(o.deliveryId) ?? null,
        },
      ]),
    ),
  };
}

/**
 * Settles a routing lead whose routing record cannot be read
 * (`decideUnreadableRecord`), under its row lock, and commits: `delivered`
 * when a partner accepted it, else `dead_lettered`, with an event that says
 * why (`detail.error`) and the source's postback; the record stays as stored,
 * for an operator to see and mend. While a delivery is pending nothing is
 * written (its outcome comes back here). Returns the postback job, and the
 * status the lead settled in (none while it stays open).
 */
export async function settleUnreadable(
  { log }: { log: Pick<FlowLog, 'error'> },
  tx: SqlTx,
  leadId: string,
  reason: string,
  now: Date,
  {
    deliveries,
    postback,
    commitWith: given = [],
    counters = [],
    entries,
  }: Omit<AdvanceOptions, 'outcome' | 'entering'>,
): Promise<{ settled?: TerminalStatus; followups: Followups }> {
  const commitWith = [...counterCalls(tx, counters), ...given]; // `given` last: it may end in a combinable call
  const decision = decideUnreadableRecord(deliveries);
  if (decision.outcome === 'open') {
    log.error({ leadId, reason }, 'the lead’s routing record cannot be read: it settles once no delivery is pending');
    if (commitWith.length > 0) await tx.commit(commitWith);
    return { followups: NOTHING };
  }
  const status = decision.outcome;
  log.error({ leadId, reason, status }, `the lead’s routing record cannot be read: settled ${status}`);
  const detail = JSON.stringify({ error: storableText(`the routing record cannot be read: ${reason}`) });
  const events: { status: LeadStatus; partnerId: string | null; detail: string | null }[] = [];
  let money: SettledMoney | undefined;
  switch (decision.outcome) {
    case 'delivered':
      events.push({ status, partnerId: decision.partnerId, detail });
      money = await settlingMoney(tx, leadId, entries);
      if (money.status !== 'delivered') events.push({ status: money.status, partnerId: money.partnerId, detail: null });
      break;
    case 'dead_lettered':
      events.push({ status, partnerId: null, detail });
      break;
  }
  const advance: StatementParams<typeof ADVANCE> = {
    leadId,
    routing: null,
    status: money?.status ?? status,
    deliveryIds: [],
    partnerIds: [],
    capAmounts: [],
    leasedUntil: [],
    dueAt: now,
    eventStatuses: events.map((e) => e.status),
    eventPartners: events.map((e) => e.partnerId),
    eventDetails: events.map((e) => e.detail),
    postbackStatus: postback ? status : null,
    postbackAt: money?.postbackAt ?? null,
  };
  const [created] = await tx.commit([tx.call(advanceStatement(advance), advance), ...commitWith]);
  return {
    settled: status,
    followups: { ...NOTHING, postbacks: created.map((r) => ({ postbackId: r.id, attempt: 1 })), settled: leadId },
  };
}

/**
 * What a lead settling `delivered` settles in, by its ledger (`settledMoney`): read under its lock here unless
 * the caller has it. Feedback about its sales may have come while it was routing (a shared route).
 */
async function settlingMoney(
  tx: SqlTx,
  leadId: string,
  entries: readonly SettlingLine[] | undefined,
): Promise<SettledMoney> {
  return settledMoney(entries ?? (await tx.query(LEAD_ENTRIES, { leadId })));
}

function setDecision(routing: RoutingRecord, given: PartnerDecisionEntry): void {
  // Reasons may quote a partner (its answer, its pause reason): the record is JSONB, which takes no NUL nor lone surrogate.
  const entry = given.reason === undefined ? given : { ...given, reason: storableText(given.reason) };
  const i = routing.decisions.findIndex((d) => d.partnerId === entry.partnerId);
  if (i >= 0) routing.decisions[i] = entry;
  else routing.decisions.push(entry);
}

/** A partner just offered the lead: its new delivery, and the slot it takes of the partner's caps. */
interface Offered {
  partnerId: string;
  deliveryId: string;
  partner: PartnerRow;
  reservation?: CapReservation;
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
    const { partners, skips, reservations } = await eligibility(tx, batch, now);
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
      const reservation = reservations.get(partnerId);
      offered.push({ partnerId, deliveryId: uuidv7(), partner, ...(reservation ? { reservation } : {}) });
    }
  }
  return offered;
}

/**
 * Why each candidate cannot take the lead right now (absent when it can),
 * read fresh from PostgreSQL, and the slot each capped one that can would
 * take. Caps are checked on the partner's counters (`checkCapped`: under
 * an advisory lock per partner, held until the commit that creates the
 * delivery takes the slot), so workers offering leads at the same time
 * cannot both take the last slot. Uncapped partners cost one round trip for
 * the whole batch, capped ones a second.
 */
async function eligibility(
  tx: SqlTx,
  partnerIds: string[],
  now: Date,
): Promise<{
  partners: Map<string, PartnerRow>;
  skips: Map<string, string>;
  reservations: Map<string, CapReservation>;
}> {
  const rows = await tx.query(PARTNER_ROWS, { ids: partnerIds });
  const states = new Map(rows.map(({ partner }) => [partner.id, partner]));
  const skips = new Map<string, string>();
  const reservations = new Map<string, CapReservation>();
  const capped: PartnerRow[] = [];
  for (const id of partnerIds) {
    const partner = states.get(id);
    if (!partner) skips.set(id, 'partner no longer exists');
    else if (!partner.active) skips.set(id, 'partner is inactive');
    else if (partner.paused)
      skips.set(id, `partner is paused${partner.pauseReason ? ` (${partner.pauseReason})` : ''}`);
    else if (!isWithinSchedule(partner.schedule, now))
      skips.set(id, `outside its schedule (${describeLocalTime(now, partner.schedule?.timezone)})`);
    else if (hasCaps(capsOf(partner))) capped.push(partner);
  }
  if (capped.length === 0) return { partners: states, skips, reservations };
  for (const [id, decision] of await checkCapped(tx, capped, now)) {
    if (decision.ok) reservations.set(id, decision.reservation);
    else skips.set(id, decision.reason);
  }
  return { partners: states, skips, reservations };
}
