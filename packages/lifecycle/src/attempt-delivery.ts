import { readRoutingRecord, type PartnerDecisionEntry, type PingEntry } from '@leadrouter/core/runtime';
import {
  buildRequest,
  classify,
  excerpt,
  readPartnerAnswer,
  type Classification,
  type PartnerAnswer,
  type PublicLead,
} from '@leadrouter/delivery/requests';
import {
  CLAIM_ATTEMPT,
  CLEAR_FAILURES,
  COUNT_FAILURE,
  isDataError,
  LOAD_DELIVERY,
  LOCK_LEAD,
  PARK_DELIVERY,
  PAUSE_PARTNER,
  RECORD_ATTEMPT,
  RELEASE_ATTEMPT,
  runStatement,
  sqlPool,
  SUPERSEDE,
  type PartnerRow,
  type SqlTx,
  type StatementRow,
} from '@leadrouter/db';
import type { DeliverJob } from '@leadrouter/queue';
import { amount, formatAmount } from '@leadrouter/money';
import { advanceAndCommit, settleUnreadable, type AdvanceOptions, type DeliveryState } from './advance.js';
import { ATTEMPT_LEASE_MIN_LEFT_MS, attemptLeaseUntil, inFlightInThisProcess, whileInFlight } from './attempt-lease.js';
import { decideAttempt, type AttemptDecision } from './decide/attempt.js';
import { decideBreaker, type BreakerDecision } from './decide/breaker.js';
import { decideSupersede } from './decide/superseded.js';
import { counterCalls, released, saleCorrection, type CapHold } from './caps.js';
import { lockCalls, saleCalls, type SaleRead } from './money.js';
import {
  enqueueDeliveries,
  enqueueFollowups,
  leadTransaction,
  NOTHING,
  type Followups,
  type LeadFlowDeps,
} from './flow.js';

export type DeliveryStepResult =
  'stale' | 'accepted' | 'rejected' | 'retry' | 'dead_lettered' | 'paused' | 'busy' | InFlight;

/**
 * The attempt is being made by another job, here or in another worker (its lease, `attemptLeaseUntil`, runs
 * until `until`), or is not due before then: the job is to look again at `until`, when either the answer is
 * recorded (the job is then stale) or the lease ran out (its worker died: the attempt is made again).
 */
export interface InFlight {
  step: 'in_flight';
  until: Date;
}

/** How soon a job looks again at an attempt whose lease ended but which this process is still making. */
export const IN_FLIGHT_RECHECK_MS = 1_000;

/** The shortest and the longest wait of a delivery whose partner has no free slot. */
export const BUSY_DELAY_MS = 500;
export const BUSY_DELAY_MAX_MS = 15_000;

/**
 * How long a delivery whose partner has no free slot waits before it asks
 * again: a quarter of how long it has been waiting, between 0.5 and 15 s,
 * plus up to as much again at random (so waiting deliveries do not all ask
 * at once). A partner's backlog then costs the system a bounded number of
 * asks per second — each one a read of the delivery and a semaphore attempt —
 * however long it gets, instead of one or two per waiting delivery per
 * second; a delivery adds at most a quarter of its wait (plus the jitter) to
 * it.
 */
export function busyDelayMs(random: () => number, waitedMs = 0): number {
  const base = Math.min(BUSY_DELAY_MAX_MS, Math.max(BUSY_DELAY_MS, waitedMs / 4));
  return Math.round(base * (1 + random()));
}

/**
 * The first attempts of a lead just routed, made by the route job itself
 * rather than through the deliver queue: one job, one queue hop and one
 * read fewer per lead. An attempt whose partner has no free slot goes to the
 * deliver queue (delayed, as a busy delivery job does); later attempts are
 * deliver jobs. If this process dies mid-attempt, the route job is taken
 * over as stalled and its repeat puts the pending delivery on the deliver
 * queue (`routeLead`), which re-sends it with the same Idempotency-Key.
 */
export async function deliverNow(
  deps: LeadFlowDeps,
  lead: PublicLead,
  offered: Followups,
  pings: readonly PingEntry[] = [],
): Promise<void> {
  await Promise.all(
    offered.deliveries.map(async (job) => {
      const offer = offered.offers?.get(job.deliveryId);
      const known: LoadedDelivery | undefined = offer && {
        id: job.deliveryId,
        status: 'pending',
        attempts: 0,
        attemptsBase: 0,
        // Its first attempt's lease, this job's since the commit that created it (`attemptAtOnce`).
        nextAttemptAt: offer.leasedUntil,
        createdAt: offer.createdAt,
        capAmount: offer.capAmount,
        partner: offer.partner,
        lead,
        ping: auctionBid(pings, offer.partner.id),
      };
      const step = await attemptDelivery(deps, job, known);
      // Another job took the attempt (this one's lease ran out before it was sent): looked at again after theirs.
      if (typeof step === 'object') await enqueueDeliveries(deps, [job], step.until.getTime() - Date.now());
      if (step !== 'busy') return;
      // The deliver job makes the attempt, and leases it then (`attemptDelivery` gave the offer's lease back).
      await enqueueDeliveries(deps, [{ ...job, busySince: Date.now() }], busyDelayMs(deps.random));
    }),
  );
}

/**
 * Attempts a delivery (the worker's `deliver` job): one attempt of one delivery. The attempt is recorded and
 * the delivery moved on in one transaction under the lead's lock; a retry is
 * a new delayed job, so no worker slot is held while waiting. A job for an
 * attempt already made (a repeat after a crash) does nothing.
 *
 * The partner is sent the lead only under the attempt's lease (`attemptLeaseUntil`: its partner's timeout plus
 * a margin, held in the delivery's due time): a job that runs while another one's attempt is in flight — a
 * job BullMQ took for stalled (its lock expired: an event loop blocked, Redis unreachable), a route job's
 * repeat, a retry after an error — waits until that lease ends (`InFlight`) instead of sending the lead a
 * second time. After a crash the lease runs out and the attempt is made again, with the same Idempotency-Key.
 */
export async function attemptDelivery(
  deps: LeadFlowDeps,
  job: DeliverJob,
  /** The delivery as its creator knows it (`deliverNow`), with its first attempt's lease: one read fewer. */
  known?: LoadedDelivery,
): Promise<DeliveryStepResult> {
  const { log } = deps;
  const delivery = known ?? (await loadDelivery(deps, job.deliveryId));
  if (!delivery || delivery.status !== 'pending' || delivery.attempts !== job.attempt - 1) return 'stale';
  const { partner, lead } = delivery;
  if (!known) {
    const busyUntil = inFlight(deps, delivery);
    if (busyUntil) return waitFor(deps, job, busyUntil);
  }

  if (partner.paused || !partner.active) {
    // A paused or inactive (deactivated, deleted) partner gets nothing more: its retries wait in PostgreSQL
    // (no due time) until an operator resumes or reactivates it, which requeues them.
    await runStatement(sqlPool(deps.db), PARK_DELIVERY, { id: delivery.id, attempts: job.attempt - 1 });
    log.info(
      { leadId: lead.id, deliveryId: delivery.id, partner: partner.name },
      partner.active ? 'partner paused; delivery parked' : 'partner inactive; delivery parked',
    );
    return 'paused';
  }
  // The attempt's lease, taken before the partner's slot, so that no slot is held while PostgreSQL is waited for:
  // the creator's, taken with the offer, when enough of it is left; else one taken now.
  let leased = known?.nextAttemptAt ?? null;
  if (!leased || leased.getTime() - deps.now().getTime() < partner.timeoutMs + ATTEMPT_LEASE_MIN_LEFT_MS) {
    const claim = await claimAttempt(deps, job, delivery, leased);
    if (claim.outcome === 'stale') return 'stale';
    if (claim.outcome === 'taken') return waitFor(deps, job, claim.until);
    leased = claim.until;
  }
  const release = await deps.acquirePartnerSlot(partner.id, partner.concurrency, partner.timeoutMs);
  if (!release) {
    // Not made: the lease is given back, and the delivery is due again for the job that asks next.
    await runStatement(sqlPool(deps.db), RELEASE_ATTEMPT, {
      deliveryId: delivery.id,
      attempts: job.attempt - 1,
      until: leased,
      now: deps.now(),
    });
    return 'busy';
  }
  // The slot is the partner's: it is given back as soon as the partner has answered, not after the bookkeeping.
  let releasing: Promise<void> | undefined;
  const releaseSlot = () =>
    (releasing ??= release().catch((err: unknown) =>
      log.warn({ err, partner: partner.name }, 'could not release a partner slot'),
    ));
  try {
    return await whileInFlight(delivery.id, () => attempt(deps, job, delivery, releaseSlot));
  } finally {
    await releaseSlot();
  }
}

/**
 * Until when the delivery's attempt is another job's (its lease, or its attempt's due time when it is not due
 * yet; or a moment when this process is still making it past its lease), or undefined when it is free.
 */
function inFlight(deps: Pick<LeadFlowDeps, 'now'>, delivery: LoadedDelivery): Date | undefined {
  const now = deps.now();
  const due = delivery.nextAttemptAt;
  if (due && due > now) return due;
  if (inFlightInThisProcess(delivery.id)) return new Date(now.getTime() + IN_FLIGHT_RECHECK_MS);
  return undefined;
}

function waitFor(deps: LeadFlowDeps, job: DeliverJob, until: Date): InFlight {
  deps.log.info(
    { deliveryId: job.deliveryId, attempt: job.attempt, until: until.toISOString() },
    'the attempt is another job’s (its lease runs): this one looks again when the lease ends',
  );
  return { step: 'in_flight', until };
}

/**
 * Takes the attempt's lease (CLAIM_ATTEMPT), or renews `held`, this job's own: claimed until when, or stale (the
 * attempt was recorded meanwhile), or taken by another job until when.
 */
async function claimAttempt(
  deps: LeadFlowDeps,
  job: DeliverJob,
  delivery: LoadedDelivery,
  held: Date | null,
): Promise<{ outcome: 'claimed' | 'taken'; until: Date } | { outcome: 'stale' }> {
  const now = deps.now();
  const until = attemptLeaseUntil(delivery.partner, now);
  const [row] = await runStatement(sqlPool(deps.db), CLAIM_ATTEMPT, {
    deliveryId: delivery.id,
    attempts: job.attempt - 1,
    now: held ?? now,
    until,
  });
  if (row?.claimed) return { outcome: 'claimed', until };
  if (!row || row.status !== 'pending' || row.attempts !== job.attempt - 1) return { outcome: 'stale' };
  // Taken by another job as this one asked: its lease is not in the row this statement read.
  const theirs = row.nextAttemptAt && row.nextAttemptAt > now ? row.nextAttemptAt : null;
  return { outcome: 'taken', until: theirs ?? new Date(now.getTime() + IN_FLIGHT_RECHECK_MS) };
}

/** A partner's bid in the lead's auction, with its ping reference (as LOAD_DELIVERY reads it); null: none. */
function auctionBid(pings: readonly PingEntry[], partnerId: string): LoadedDelivery['ping'] {
  const won = pings.find((p) => p.partnerId === partnerId && p.outcome === 'bid' && p.bid !== undefined);
  return won ? { bid: won.bid!, reference: won.reference ?? null } : null;
}

/** A delivery with what its attempt needs: the partner's settings and the lead as partners see it. */
export type LoadedDelivery = StatementRow<typeof LOAD_DELIVERY>;

async function loadDelivery(deps: LeadFlowDeps, deliveryId: string): Promise<LoadedDelivery | null> {
  const [delivery] = await runStatement(sqlPool(deps.db), LOAD_DELIVERY, { deliveryId });
  return delivery ?? null;
}

/**
 * What one attempt records: what it decided for the delivery and for its
 * partner's circuit breaker, and what is kept of the partner's answer (all
 * of it storable).
 */
interface AttemptRecord {
  decision: AttemptDecision;
  breaker: BreakerDecision;
  httpStatus: number | null;
  durationMs: number;
  excerpt: string | null;
  answer: PartnerAnswer;
}

/** What an attempt's verdict leads to (decided by @leadrouter/lifecycle), with what it records. */
function attemptRecord(
  deps: LeadFlowDeps,
  partner: PartnerRow,
  attemptInRound: number,
  verdict: Classification,
  kept: Pick<AttemptRecord, 'httpStatus' | 'durationMs' | 'excerpt' | 'answer'>,
): AttemptRecord {
  const decision = decideAttempt({
    verdict,
    attemptInRound,
    policy: partner,
    ...(kept.answer.reason ? { answerReason: kept.answer.reason } : {}),
    random: deps.random,
  });
  return { decision, breaker: decideBreaker(verdict, decision, partner.consecutiveFailures), ...kept };
}

async function attempt(
  deps: LeadFlowDeps,
  job: DeliverJob,
  delivery: LoadedDelivery,
  releaseSlot: () => Promise<void>,
): Promise<DeliveryStepResult> {
  const { log } = deps;
  const { partner, lead } = delivery;

  const request = buildRequest(
    {
      id: partner.id,
      url: partner.url,
      method: partner.method,
      headers: partner.headers,
      fieldMap: partner.fieldMap,
      timeoutMs: partner.timeoutMs,
      secret: partner.secret,
    },
    lead,
    delivery.id,
    deps.now(),
    delivery.ping?.reference ?? undefined,
  );
  const result = await deps.send(request);
  void releaseSlot();
  const now = deps.now();
  // Each operator retry from the dead letters gives the delivery a fresh `maxAttempts`.
  const attemptInRound = job.attempt - delivery.attemptsBase;
  const httpStatus = result.kind === 'response' ? result.status : null;
  const durationMs = Math.round(result.durationMs);
  let record = attemptRecord(deps, partner, attemptInRound, classify(result, partner.acceptWhen, now), {
    httpStatus,
    durationMs,
    excerpt: result.kind === 'response' ? excerpt(result.body) : null,
    answer: result.kind === 'response' ? readPartnerAnswer(result.body, partner.responseMap) : {},
  });

  let next: Recorded;
  try {
    next = await recordAttempt(deps, job, delivery, record, now);
  } catch (err) {
    if (!isDataError(err)) throw err;
    // PostgreSQL refused something of the answer that storableText did not foresee. Failing the job would
    // send the lead again and again, never recording anything: record a failed attempt instead, keeping
    // nothing of the answer but its status, so retries, the dead letter and the waterfall go on as usual.
    const code = (err as { code: string }).code;
    log.warn(
      { leadId: lead.id, deliveryId: delivery.id, partner: partner.name, attempt: job.attempt, sqlState: code },
      'the partner’s answer could not be recorded; recorded as a failed attempt',
    );
    const reason = `the partner’s answer could not be recorded (PostgreSQL refused it: SQLSTATE ${code})`;
    record = attemptRecord(
      deps,
      partner,
      attemptInRound,
      { outcome: 'retry', reason },
      { httpStatus, durationMs, excerpt: null, answer: {} },
    );
    next = await recordAttempt(deps, job, delivery, record, now);
  }

  if (!next) return 'stale';
  const { decision } = record;
  const { step } = decision;
  // New leads must skip the partner it paused: every worker drops its cached rules.
  if (reportHealth(deps, partner, next.health)) await deps.caches?.invalidate('rules');
  deps.metrics?.deliveryAttempts.inc({ partner: partner.name, outcome: step });
  deps.metrics?.deliveryDuration.observe({ partner: partner.name }, result.durationMs / 1000);
  log.info(
    {
      leadId: lead.id,
      deliveryId: delivery.id,
      partner: partner.name,
      attempt: job.attempt,
      outcome: step,
      httpStatus: httpStatus ?? undefined,
      retryInMs: decision.step === 'retry' ? decision.retryInMs : undefined,
    },
    'delivery attempt',
  );
  if (next.delayMs > 0) await enqueueDeliveries(deps, next.followups.deliveries, next.delayMs);
  else await enqueueFollowups(deps, next.followups);
  return step;
}

/**
 * What recording an attempt decided, with the partner's health row (reported once committed); null when
 * another worker recorded this attempt first.
 */
type Recorded = { followups: Followups; delayMs: number; health: HealthRow | undefined } | null;

/** What the circuit breaker's statement returns when it changed the partner. */
type HealthRow = { pausedNow: boolean; failures?: number; reason?: string | null };

/**
 * The partner has answered: a pool whose connections are all busy (a worker running more jobs than it has
 * connections, on a loaded machine) must not fail the job, which would send the lead again. Measured with the
 * benchmark's cluster phase at load 12–14: 23–100 of 1,500 leads sent twice, each after `timeout exceeded when
 * trying to connect` here (docs/scaling.md).
 */
const RECORD_AFTER_ANSWER = { busyPoolPatienceMs: 120_000 };

/**
 * Records the attempt and moves the delivery (and, once it is settled, the
 * lead) on, in one transaction under the lead's lock.
 */
async function recordAttempt(
  deps: LeadFlowDeps,
  job: DeliverJob,
  delivery: LoadedDelivery,
  { decision, breaker, httpStatus, durationMs, excerpt: kept, answer }: AttemptRecord,
  now: Date,
): Promise<Recorded> {
  const { partner, lead } = delivery;
  const { step } = decision;
  const retryInMs = decision.step === 'retry' ? decision.retryInMs : 0;
  const error = decision.step === 'accepted' ? null : decision.error;
  // Exact: the answer's price (`responseMap.price`, read by readAnswerAmount), else its bid in the lead's
  // auction (ADR 0032), else the partner's fixed price.
  const price = answer.price !== undefined ? formatAmount(answer.price) : (delivery.ping?.bid ?? partner.price);
  return leadTransaction(
    deps,
    lead.id,
    async (tx): Promise<Recorded> => {
      const health = breakerStatement(tx, partner, breaker, now);
      const lock = tx.call(LOCK_LEAD, { leadId: lead.id });
      const record = tx.call(RECORD_ATTEMPT, {
        deliveryId: delivery.id,
        attempts: job.attempt - 1,
        status: step === 'retry' ? 'pending' : step,
        nextAttemptAt: step === 'retry' ? new Date(now.getTime() + retryInMs) : null,
        error,
        deadLetteredAt: step === 'dead_lettered' ? now : null,
        price,
        reference: answer.reference ?? null,
        reason: answer.reason ?? null,
        outcome: step === 'dead_lettered' ? 'failed' : step,
        httpStatus,
        durationMs,
        excerpt: kept,
        leadId: lead.id,
      });
      // The lead's lock; the attempt recorded (if no other worker recorded it first) with the lead's
      // deliveries as they are now; the partner's health; for a sale, the lead's money terms and ledger
      // (`saleCalls`): one round trip.
      const healthCalls = health ? [health] : [];
      let money: SaleRead | undefined;
      let first: [StatementRow<typeof LOCK_LEAD>[], StatementRow<typeof RECORD_ATTEMPT>[], HealthRow[]];
      if (step === 'accepted') {
        const [locked, moved, moneyLead, entries, healthRows = []] = await tx.run([
          lock,
          record,
          ...lockCalls(tx, lead.id),
          ...healthCalls,
        ]);
        money = { lead: moneyLead[0], entries };
        first = [locked, moved, healthRows];
      } else {
        const [locked, moved, healthRows = []] = await tx.run([lock, record, ...healthCalls]);
        first = [locked, moved, healthRows];
      }
      const [locked, deliveries, healthRows] = first;
      if (!deliveries.some((d) => d.moved)) {
        await tx.rollback(); // another worker recorded this attempt first
        return null;
      }
      const changed: HealthRow | undefined = healthRows[0];
      switch (decision.step) {
        case 'retry':
          return {
            followups: { deliveries: [{ deliveryId: delivery.id, attempt: job.attempt + 1 }], postbacks: [] },
            delayMs: retryInMs,
            health: changed,
          };
        case 'accepted': {
          const hold = { partner, createdAt: delivery.createdAt, capAmount: delivery.capAmount };
          const accepted = { leadId: lead.id, deliveryId: delivery.id, partnerId: partner.id, price, hold, money };
          const followups = await commitDeliveryAccepted(deps, tx, accepted, { lead: locked[0], deliveries, now });
          return { followups, delayMs: 0, health: changed };
        }
        case 'rejected':
        case 'dead_lettered': {
          const hold = { partner, createdAt: delivery.createdAt, capAmount: delivery.capAmount };
          const failed = { partnerId: partner.id, step: decision.step, error: decision.error, hold };
          const followups = await commitDeliveryFailed(deps, tx, failed, { lead: locked[0], deliveries, now });
          return { followups, delayMs: 0, health: changed };
        }
      }
    },
    RECORD_AFTER_ANSWER,
  );
}

/** The lead as its lock read it (absent if it was deleted), with its deliveries once the attempt was recorded. */
interface SettledLead {
  lead: StatementRow<typeof LOCK_LEAD> | undefined;
  deliveries: DeliveryState[];
  now: Date;
}

/** A delivery the partner accepted: the sale, at `price` (text, exact; null when neither answer nor partner said). */
export interface AcceptedDelivery {
  leadId: string;
  deliveryId: string;
  partnerId: string;
  price: string | null;
  /** Its hold on the partner's cap counters, whose reservation the sale's price replaces (ADR 0030). */
  hold?: CapHold;
  /** The lead's money terms and ledger, read under its lock with the attempt (else read here: `saleCalls`). */
  money?: SaleRead | undefined;
}

/**
 * The commit of a delivery the partner accepted, in the transaction that
 * recorded the attempt, under the lead's lock. A routing lead moves on
 * (`moveLeadOn`: sold, or offered to the next partners of a shared route;
 * `delivered` too when its routing record cannot be read); a lead already settled — a dead letter an operator retried on a
 * lead already sold, a shared route with room left — has its other dead
 * letters superseded once the sale fills the share, as the advance does.
 * Whatever else a sale writes belongs in `withSale`, committed in the same
 * message on every path, so it is written once, in the same transaction as
 * the accepted attempt.
 */
export async function commitDeliveryAccepted(
  deps: Pick<LeadFlowDeps, 'log'>,
  tx: SqlTx,
  accepted: AcceptedDelivery,
  settled: SettledLead,
): Promise<Followups> {
  // What the sale writes besides the attempt, committed in the same message as the lead's move: its ledger lines
  // (the partner's price, the source's cpl or revshare; ADR 0026), and its price in place of what the offer
  // reserved of the partner's budgets (ADR 0030). `withSale` comes last in that message on every path: its lines
  // are a combinable call, one INSERT with the other sales of a group (ADR 0038).
  const price = accepted.price === null ? null : amount(accepted.price);
  const sale = await saleCalls(tx, { ...accepted, price }, settled.now, accepted.money);
  const withSale = sale.calls;
  const counters = accepted.hold ? saleCorrection(accepted.hold, accepted.price) : [];
  const outcome = { partnerId: accepted.partnerId, decision: 'accepted', at: settled.now.toISOString() } as const;
  const moved = await moveLeadOn(deps, tx, outcome, settled, { commitWith: withSale, counters, entries: sale.entries });
  if (moved) return moved;
  // A lead no longer routing: a dead letter an operator retried on a lead already sold (a shared route with room
  // left). The sale that fills the share supersedes the lead's other dead letters, as advanceAndCommit does.
  const stored = readRoutingRecord(settled.lead?.routing);
  if (stored.kind === 'unreadable')
    deps.log.error(
      { leadId: accepted.leadId, reason: stored.reason },
      'the lead’s routing record cannot be read: its dead letters are left as they are',
    );
  const supersede =
    stored.kind === 'record' ? decideSupersede(settled.deliveries, stored.record.maxDeliveries) : undefined;
  await tx.commit([
    ...(supersede?.outcome === 'supersede'
      ? [tx.call(SUPERSEDE, { leadId: accepted.leadId, ids: supersede.deliveryIds })]
      : []),
    ...counterCalls(tx, counters),
    ...withSale, // last: its ledger lines are a combinable call (`saleCalls`)
  ]);
  return NOTHING;
}

/** A delivery the partner rejected, or that ran out of attempts, with its hold on the partner's cap counters. */
interface FailedDelivery {
  partnerId: string;
  step: 'rejected' | 'dead_lettered';
  error: string;
  hold: CapHold;
}

/**
 * The commit of a delivery rejected or dead-lettered: its slot of the
 * partner's caps is given back (ADR 0030), and a routing lead moves on
 * (`moveLeadOn`: the next partner may take that very slot); a lead no
 * longer routing stays as it is.
 */
async function commitDeliveryFailed(
  deps: Pick<LeadFlowDeps, 'log'>,
  tx: SqlTx,
  failed: FailedDelivery,
  settled: SettledLead,
): Promise<Followups> {
  const outcome = {
    partnerId: failed.partnerId,
    decision: failed.step,
    reason: failed.error,
    at: settled.now.toISOString(),
  } as const;
  const counters = released(failed.hold);
  const moved = await moveLeadOn(deps, tx, outcome, settled, { counters });
  if (moved) return moved;
  await tx.commit(counterCalls(tx, counters));
  return NOTHING;
}

/**
 * Moves a routing lead on once one of its deliveries settled, and commits,
 * with `commitWith` and the cap counters' changes in the same message: it advances with the delivery's
 * outcome (`advanceAndCommit`: the waterfall, or its final status), or is
 * settled when its routing record cannot be read (`settleUnreadable`).
 * Null, with nothing written, for a lead not routing or without a record.
 */
async function moveLeadOn(
  deps: Pick<LeadFlowDeps, 'log'>,
  tx: SqlTx,
  outcome: PartnerDecisionEntry,
  { lead, deliveries, now }: SettledLead,
  { commitWith = [], counters = [], entries }: Pick<AdvanceOptions, 'commitWith' | 'counters' | 'entries'>,
): Promise<Followups | null> {
  if (lead?.status !== 'routing') return null;
  const stored = readRoutingRecord(lead.routing);
  const given = { deliveries, postback: lead.postback, commitWith, counters, ...(entries ? { entries } : {}) };
  switch (stored.kind) {
    case 'none':
      return null;
    case 'unreadable':
      return (await settleUnreadable(deps, tx, lead.id, stored.reason, now, given)).followups;
    case 'record':
      return advanceAndCommit(tx, lead.id, stored.record, now, { ...given, outcome });
  }
}

/**
 * The circuit breaker's decision (`decideBreaker`), as one statement run
 * with the attempt: a failure counts against the partner and the one that
 * reaches `pauseAfterFailures` pauses it (the count is the database's,
 * shared by every worker, so the trip is settled here, under the partner's
 * row lock); a real answer after failures clears the count; a 410 Gone
 * pauses the partner at once. A paused partner is skipped by new leads and
 * its retries wait until an operator resumes it. Null when there is nothing
 * to write.
 */
function breakerStatement(tx: SqlTx, partner: PartnerRow, breaker: BreakerDecision, now: Date) {
  switch (breaker.action) {
    case 'none':
      return null;
    case 'pause':
      return tx.call(PAUSE_PARTNER, {
        id: partner.id,
        at: now,
        reason: breaker.reason.slice(0, 500),
        fullReason: breaker.reason,
      });
    case 'reset':
      return tx.call(CLEAR_FAILURES, { id: partner.id });
    case 'count_failure':
      return tx.call(COUNT_FAILURE, { id: partner.id, at: now, error: breaker.error });
  }
}

/** Logs and counts a pause the attempt caused; true when it paused the partner. */
function reportHealth({ log, metrics }: LeadFlowDeps, partner: PartnerRow, row: HealthRow | undefined): boolean {
  if (!row?.pausedNow) return false;
  log.warn({ partnerId: partner.id, failures: row.failures, reason: row.reason }, 'partner paused');
  metrics?.partnerPauses.inc({ partner: partner.name });
  return true;
}
