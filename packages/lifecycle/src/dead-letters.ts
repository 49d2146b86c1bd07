import {
  checkQuery,
  conflict,
  invalid,
  notFound,
  readRoutingRecord,
  type DeliveryStatus,
  type FieldError,
  type LeadStatus,
  UUID_RE,
} from '@leadrouter/core';
import {
  ADD_LEAD_EVENTS,
  DEAD_LETTER_COUNT,
  DEAD_LETTER_PAGE,
  DISCARD_DEAD_LETTERS,
  LEADS_OF_DELIVERIES,
  LEADS_WITH_DEAD_LETTERS,
  LOCK_DELIVERIES,
  LOCK_LEADS,
  REOPEN_LEADS,
  REQUEUE_DEAD_LETTERS,
  runStatement,
  SALES_OF_LEADS,
  sqlPool,
  sqlTransaction,
  type Db,
  type SqlTx,
  type StatementRow,
} from '@leadrouter/db';
import { counterCalls, retaken } from './caps.js';
import { decideRequeues, type RequeueSkipReason } from './decide/requeue.js';
import type { DeliverJob, Queues } from '@leadrouter/queue';
import { DEAD_LETTER_STATUSES, operations, SKIP_REASONS as API_SKIP_REASONS, type QueryOf } from '@leadrouter/api';
import { encodeCursor, type Cursor, type Page } from './cursor.js';
import { cursorOf, DEFAULT_LIMIT, listOf, readParams, type RawParams } from './params.js';
import { findPartner, type Named } from './refs.js';

/** What the operations need: the database, and the queue to put retried deliveries back on. */
export interface OperationsDeps {
  db: Db;
  queues: Pick<Queues, 'enqueueDelivery' | 'enqueueRoute'>;
  now?: () => Date;
}

/** Dead letters are requeued in batches of this many, one transaction each. */
export const RETRY_BATCH = 500;

/** The delivery status an operator's discard leaves, and the reason recorded with it. */
export const DISCARD_REASON = 'discarded by operator';

export type { RequeueSkipReason };

/** Why a dead letter was not requeued, as the operator reads it (written with the API's answers). */
export const SKIP_REASONS: Readonly<Record<RequeueSkipReason, string>> = API_SKIP_REASONS;
const _sameReasons: [Exclude<keyof typeof API_SKIP_REASONS, RequeueSkipReason>] extends [never] ? true : false = true;
void _sameReasons;

// ---------------------------------------------------------------------------
// Listing

/**
 * What the list shows: `dead_lettered`, the dead letters an operator can act
 * on (the default); `superseded`, those whose lead was sold through other
 * partners meanwhile (kept for the record, never retried).
 */
export { DEAD_LETTER_STATUSES };
export type DeadLetterStatus = (typeof DEAD_LETTER_STATUSES)[number];

export interface DeadLetterQuery {
  partner?: Named;
  /** `['dead_lettered']` unless asked otherwise. */
  statuses: DeadLetterStatus[];
  limit: number;
  cursor?: Cursor;
}

export interface DeadLetterView {
  id: string;
  leadId: string;
  /** The partner's name; `partnerId` is its id. */
  partner: string;
  partnerId: string;
  /** `dead_lettered`, or `superseded` when its lead has since been sold through other partners. */
  status: DeadLetterStatus;
  attempts: number;
  /** How many times an operator has retried this delivery before. */
  retries: number;
  lastError: string | null;
  /** When the delivery was dead-lettered. */
  at: string | null;
}

/** The dead-letter list's parameters, as its route's schema accepted them. */
export type DeadLetterParams = QueryOf<typeof operations.listDeadLetters>;

/**
 * `partner` (id or name), `status` (comma-separated; default `dead_lettered`), `limit`, `cursor`, accepted by the
 * schema: the partner looked up and the cursor read, their problems added to `problems` (an unknown partner is
 * one).
 */
export async function readDeadLetterQuery(
  db: Db,
  params: DeadLetterParams,
  problems: FieldError[],
): Promise<DeadLetterQuery> {
  const statuses = listOf<DeadLetterStatus>(params.status) ?? ['dead_lettered'];
  const cursor = cursorOf(params.cursor, problems);
  const partner = params.partner === undefined ? undefined : await findPartner(db, params.partner);
  if (params.partner !== undefined && !partner)
    problems.push({ field: 'partner', message: 'no partner has this id or name' });
  return {
    statuses,
    limit: params.limit ?? DEFAULT_LIMIT,
    ...(partner ? { partner } : {}),
    ...(cursor ? { cursor } : {}),
  };
}

/** The CLI's options as the API's query: every problem in one 422. */
export async function parseDeadLetterQuery(db: Db, raw: RawParams): Promise<DeadLetterQuery> {
  const schema = operations.listDeadLetters.query;
  const { value, problems } = readParams<DeadLetterParams>(schema, raw);
  const query = await readDeadLetterQuery(db, value, problems);
  checkQuery(schema, problems);
  return query;
}

/**
 * Dead-lettered deliveries, oldest first: ordered by when they were
 * dead-lettered, then id, with a keyset cursor, so a page boundary holds while
 * new dead letters arrive (they sort after every page already read).
 * Superseded ones only when asked for (`statuses`).
 */
export async function listDeadLetters(db: Db, q: DeadLetterQuery): Promise<Page<DeadLetterView>> {
  const rows = await runStatement(sqlPool(db), DEAD_LETTER_PAGE, {
    ...scopeOf(q.statuses, q.partner, null),
    afterAt: q.cursor?.at ?? null,
    afterId: q.cursor?.id ?? null,
    limit: q.limit + 1,
  });
  const more = rows.length > q.limit;
  const items = more ? rows.slice(0, q.limit) : rows;
  const last = items[items.length - 1];
  return {
    items: items.map((d) => ({
      id: d.id,
      leadId: d.leadId,
      partner: d.partner,
      partnerId: d.partnerId,
      status: d.status as DeadLetterStatus,
      attempts: d.attempts,
      retries: d.retries,
      lastError: d.lastError,
      at: d.deadLetteredAt?.toISOString() ?? null,
    })),
    nextCursor: more && last?.deadLetteredAt ? encodeCursor({ at: last.deadLetteredAt, id: last.id }) : null,
  };
}

/** The statuses, partner and time bound of DEAD_LETTER_PAGE and DEAD_LETTER_COUNT. */
function scopeOf(statuses: readonly DeadLetterStatus[], partner: Named | undefined, until: Date | null) {
  return {
    dead: statuses.includes('dead_lettered'),
    superseded: statuses.includes('superseded'),
    partnerId: partner?.id ?? null,
    until,
  };
}

// ---------------------------------------------------------------------------
// Bulk work: retry or discard every dead letter of one partner, or all

/** Which dead letters a bulk retry or discard takes. */
export interface DeadLetterSelection {
  /** Only this partner's dead letters; every dead letter when absent. */
  partner?: Named;
}

export interface BulkProgress {
  /** Dead letters looked at so far, out of `total` (those present when the bulk work started). */
  done: number;
  total: number;
}

/**
 * The body of `POST /v1/admin/dead-letters/retry` and
 * `POST /v1/admin/dead-letters/discard`: `{partner}` or `{all: true}`,
 * exactly one — a bulk action on every dead letter is never a default.
 */
export async function parseDeadLetterSelection(
  db: Db,
  body: unknown,
  action: 'retry' | 'discard',
): Promise<DeadLetterSelection> {
  const errors: FieldError[] = [];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid([{ field: '/', message: 'must be an object: {"partner": "<id or name>"} or {"all": true}' }]);
  }
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) {
    if (key !== 'partner' && key !== 'all') errors.push({ field: `/${key}`, message: 'is not an allowed property' });
  }
  if (b.all !== undefined && b.all !== true) errors.push({ field: '/all', message: 'must be true when given' });
  let partner: Named | null = null;
  if (b.partner !== undefined) {
    if (typeof b.partner !== 'string' || b.partner.length === 0 || b.partner.length > 200) {
      errors.push({ field: '/partner', message: 'must be a partner id or name (1 to 200 characters)' });
    } else {
      partner = await findPartner(db, b.partner);
      if (!partner) errors.push({ field: '/partner', message: 'no partner has this id or name' });
    }
  }
  if (b.partner === undefined && b.all === undefined)
    errors.push({
      field: '/',
      message: `give "partner" (an id or name), or "all": true to ${action} every dead letter`,
    });
  if (b.partner !== undefined && b.all !== undefined)
    errors.push({ field: '/', message: 'give either "partner" or "all", not both' });
  if (errors.length > 0) throw invalid(errors);
  return partner ? { partner } : {};
}

/** The body of `POST /v1/admin/dead-letters/retry`. */
export function parseRetrySelection(db: Db, body: unknown): Promise<DeadLetterSelection> {
  return parseDeadLetterSelection(db, body, 'retry');
}

/** The body of `POST /v1/admin/dead-letters/discard`. */
export function parseDiscardSelection(db: Db, body: unknown): Promise<DeadLetterSelection> {
  return parseDeadLetterSelection(db, body, 'discard');
}

/**
 * Hands the selected dead letters that existed when the call started to
 * `batch`, oldest first, `batchSize` ids at a time, and reports progress
 * after each batch. Bounded: a delivery dead-lettered again during the run is
 * not taken a second time (`dead_lettered_at <= start`). Each batch commits on
 * its own (in `batch`), so after an interruption the same call takes what is
 * left.
 */
async function inBatches(
  deps: OperationsDeps,
  selection: DeadLetterSelection,
  batchSize: number,
  batch: (ids: string[]) => Promise<void>,
  onProgress: (p: BulkProgress) => void,
): Promise<void> {
  const pool = sqlPool(deps.db);
  const scope = scopeOf(['dead_lettered'], selection.partner, now(deps));
  const [{ total = 0 } = {}] = await runStatement(pool, DEAD_LETTER_COUNT, scope);
  let done = 0;
  let cursor: Cursor | undefined;
  onProgress({ done, total });
  for (;;) {
    const page = await runStatement(pool, DEAD_LETTER_PAGE, {
      ...scope,
      afterAt: cursor?.at ?? null,
      afterId: cursor?.id ?? null,
      limit: batchSize,
    });
    if (page.length === 0) break;
    await batch(page.map((d) => d.id));
    done += page.length;
    onProgress({ done, total: Math.max(total, done) });
    const last = page[page.length - 1]!;
    cursor = { at: last.deadLetteredAt!, id: last.id };
    if (page.length < batchSize) break;
  }
}

// ---------------------------------------------------------------------------
// Retrying

export interface RetryResult {
  requeued: number;
  /**
   * Requeued in PostgreSQL, but Redis could not take the job right now: the
   * sweeper enqueues them within about 30 s. Present only when not zero.
   */
  deferred?: number;
}

export interface BulkRetryResult extends RetryResult {
  /** Dead letters left as they were, by reason. */
  skipped: Record<RequeueSkipReason, number>;
}

export interface RetryProgress extends BulkProgress {
  requeued: number;
}

/**
 * Requeues one dead letter with a fresh `maxAttempts`. 404 when there is no
 * such delivery; 409 (with `reason`, one of RequeueSkipReason) when it is not
 * a dead letter any more — e.g. a second, simultaneous retry of the same one —
 * or when retrying could oversell its lead (`sold`, also for a superseded one).
 */
export async function retryDeadLetter(deps: OperationsDeps, id: string): Promise<RetryResult> {
  if (!UUID_RE.test(id)) throw notFound('dead letter');
  const outcome = (await requeue(deps.db, [id.toLowerCase()], now(deps))).get(id.toLowerCase());
  if (!outcome || outcome.kind === 'not_found') throw notFound('dead letter');
  if (outcome.kind === 'skipped') {
    throw conflict(`not retried: ${SKIP_REASONS[outcome.reason]}`, {
      reason: outcome.reason,
      ...(outcome.deliveryStatus ? { deliveryStatus: outcome.deliveryStatus } : {}),
    });
  }
  const deferred = await enqueue(deps, [outcome.job]);
  return { requeued: 1, ...(deferred ? { deferred } : {}) };
}

/**
 * Requeues every dead letter (of one partner, or all) that existed when the
 * call started, oldest first, in batches of RETRY_BATCH: one transaction and
 * one round of enqueueing per batch. Bounded (a delivery dead-lettered again
 * during the run is not picked up a second time), and resumable: each batch
 * commits on its own, so after an interruption running it again retries what
 * is left, and a batch committed but not yet enqueued is enqueued by the
 * sweeper.
 */
export async function retryDeadLetters(
  deps: OperationsDeps,
  selection: DeadLetterSelection,
  opts: { batchSize?: number; onProgress?: (p: RetryProgress) => void } = {},
): Promise<BulkRetryResult> {
  const result: BulkRetryResult = { requeued: 0, skipped: emptySkips() };
  let deferred = 0;
  await inBatches(
    deps,
    selection,
    opts.batchSize ?? RETRY_BATCH,
    async (ids) => {
      const jobs: DeliverJob[] = [];
      for (const outcome of (await requeue(deps.db, ids, now(deps))).values()) {
        if (outcome.kind === 'requeued') jobs.push(outcome.job);
        else if (outcome.kind === 'skipped') result.skipped[outcome.reason]++;
        else result.skipped.not_dead_lettered++; // gone meanwhile (its lead was deleted)
      }
      result.requeued += jobs.length;
      deferred += await enqueue(deps, jobs);
    },
    (p) => opts.onProgress?.({ ...p, requeued: result.requeued }),
  );
  return deferred > 0 ? { ...result, deferred } : result;
}

type Outcome =
  | { kind: 'requeued'; job: DeliverJob }
  | { kind: 'skipped'; reason: RequeueSkipReason; deliveryStatus?: DeliveryStatus }
  | { kind: 'not_found' };

/** A lead whose dead letters are retried: its status and routing record (as stored), as its row lock reads them. */
type RetriedLead = StatementRow<typeof LOCK_LEADS>;
type LockedDelivery = StatementRow<typeof LOCK_DELIVERIES>;

/**
 * The one place that records retries, in one transaction, under the same
 * locks and in the same order as the worker: the leads' rows first
 * (`FOR UPDATE`, by id), then the deliveries'. A second retry of the same
 * delivery waits for the first and then finds it `pending`. What to requeue
 * is `decideRequeues`' (src/decide/requeue.ts): never more sales than the
 * lead's route allows.
 */
async function requeue(db: Db, ids: string[], at: Date): Promise<Map<string, Outcome>> {
  return sqlTransaction(
    sqlPool(db),
    async (tx) => {
      const outcomes = new Map<string, Outcome>(ids.map((id) => [id, { kind: 'not_found' }]));
      const targets = await tx.query(LEADS_OF_DELIVERIES, { ids });
      if (targets.length === 0) return outcomes;
      const leadIds = targets.map((t) => t.leadId).sort();

      const [leads, deliveries, counts] = await tx.run([
        tx.call(LOCK_LEADS, { ids: leadIds }),
        tx.call(LOCK_DELIVERIES, { ids }),
        tx.call(SALES_OF_LEADS, { leadIds }),
      ]);

      const count = new Map(counts.map((c) => [c.leadId, c]));
      const deliveryById = new Map(deliveries.map((d) => [d.id, d]));
      const decided = decideRequeues(
        ids.flatMap((id) => deliveryById.get(id) ?? []),
        new Map(
          leads.map((l) => [
            l.id,
            {
              status: l.status,
              accepted: count.get(l.id)?.accepted ?? 0,
              pending: count.get(l.id)?.pending ?? 0,
              maxDeliveries: recordedMaxDeliveries(l),
              erased: l.erased,
            },
          ]),
        ),
      );

      const requeued: LockedDelivery[] = [];
      const reopened = new Map<string, LockedDelivery>();
      for (const { candidate: d, decision } of decided) {
        switch (decision.outcome) {
          case 'skip':
            outcomes.set(d.id, {
              kind: 'skipped',
              reason: decision.reason,
              ...(decision.deliveryStatus ? { deliveryStatus: decision.deliveryStatus } : {}),
            });
            break;
          case 'requeue':
            requeued.push(d);
            if (decision.reopensLead) reopened.set(d.leadId, d);
            outcomes.set(d.id, { kind: 'requeued', job: { deliveryId: d.id, attempt: d.attempts + 1 } });
            break;
        }
      }
      if (requeued.length === 0) return outcomes;

      await tx.commit([
        tx.call(REQUEUE_DEAD_LETTERS, { ids: requeued.map((d) => d.id), at }),
        // Pending again, each holds its slot of its partner's caps again, in the periods it was created in.
        ...counterCalls(
          tx,
          retaken(
            requeued.map((d) => ({
              partner: { ...d.partnerCaps, id: d.partnerId },
              createdAt: d.createdAt,
              capAmount: d.capAmount,
            })),
          ),
        ),
        ...(reopened.size > 0
          ? reopen(tx, reopened, at, (d) => ({ reason: 'operator retried a dead letter', deliveryId: d.id }))
          : []),
      ]);
      return outcomes;
    },
    { retryConflicts: true },
  );
}

/** Leads moved back to `routing`, each with its event naming the delivery (and its partner) that reopened it. */
function reopen(
  tx: SqlTx,
  leads: ReadonlyMap<string, Pick<LockedDelivery, 'id' | 'partnerId'>>,
  at: Date,
  detail: (d: Pick<LockedDelivery, 'id' | 'partnerId'>) => object,
): string[] {
  return [
    tx.call(REOPEN_LEADS, { ids: [...leads.keys()], at }),
    tx.call(ADD_LEAD_EVENTS, {
      leadIds: [...leads.keys()],
      status: 'routing',
      partnerIds: [...leads.values()].map((d) => d.partnerId),
      details: [...leads.values()].map((d) => JSON.stringify(detail(d))),
      at,
    }),
  ];
}

/** The route's `maxDeliveries` as the lead's routing record holds it; undefined when it has none it can read. */
function recordedMaxDeliveries(lead: RetriedLead): number | undefined {
  const stored = readRoutingRecord(lead.routing);
  return stored.kind === 'record' ? stored.record.maxDeliveries : undefined;
}

/** Adds the jobs (their ids make this idempotent); returns how many Redis did not take. */
async function enqueue(deps: OperationsDeps, jobs: DeliverJob[]): Promise<number> {
  let failed = 0;
  for (let i = 0; i < jobs.length; i += 100) {
    const results = await Promise.allSettled(jobs.slice(i, i + 100).map((job) => deps.queues.enqueueDelivery(job)));
    failed += results.filter((r) => r.status === 'rejected').length;
  }
  return failed;
}

// ---------------------------------------------------------------------------
// Discarding

export interface DiscardResult {
  leadId: string;
  /** The lead's status after the discard: `routing` while the worker settles it again. */
  leadStatus: LeadStatus;
}

export interface BulkDiscardResult {
  discarded: number;
  /** Dead letters left as they were: retried or discarded by someone else meanwhile. */
  skipped: { not_dead_lettered: number };
  /** Leads handed back to the worker to settle (they had no other dead letter). */
  settling: number;
}

export interface DiscardProgress extends BulkProgress {
  discarded: number;
}

/**
 * Gives up on a dead letter: the delivery stays in the lead's history, as
 * `rejected` with the reason "discarded by operator" (its attempts, last error
 * and dead-letter time are kept), and leaves the dead-letter list.
 *
 * A lead that was `dead_lettered` because of this delivery alone is handed
 * back to the worker (status `routing`, a `route` job), which settles it the
 * way it settles every lead — `unsold` now, since no partner took it — and
 * sends the source its postback. A lead with other dead letters stays
 * `dead_lettered`; a lead still routing or delivered is left as it is.
 */
export async function discardDeadLetter(deps: OperationsDeps, id: string): Promise<DiscardResult> {
  if (!UUID_RE.test(id)) throw notFound('dead letter');
  const key = id.toLowerCase();
  const { outcomes, settle } = await discard(deps.db, [key], now(deps));
  const outcome = outcomes.get(key);
  if (!outcome || outcome.kind === 'not_found') throw notFound('dead letter');
  if (outcome.kind === 'skipped') {
    throw conflict(`not discarded: ${SKIP_REASONS.not_dead_lettered}`, {
      reason: 'not_dead_lettered',
      deliveryStatus: outcome.deliveryStatus,
    });
  }
  await settleAgain(deps, settle);
  return { leadId: outcome.leadId, leadStatus: outcome.leadStatus };
}

/**
 * Discards every dead letter (of one partner, or all) that existed when the
 * call started, oldest first, in batches of RETRY_BATCH, one transaction per
 * batch — bounded and resumable like `retryDeadLetters`. Leads left with no
 * dead letter are handed back to the worker batch by batch, as by
 * `discardDeadLetter`.
 */
export async function discardDeadLetters(
  deps: OperationsDeps,
  selection: DeadLetterSelection,
  opts: { batchSize?: number; onProgress?: (p: DiscardProgress) => void } = {},
): Promise<BulkDiscardResult> {
  const result: BulkDiscardResult = { discarded: 0, skipped: { not_dead_lettered: 0 }, settling: 0 };
  await inBatches(
    deps,
    selection,
    opts.batchSize ?? RETRY_BATCH,
    async (ids) => {
      const { outcomes, settle } = await discard(deps.db, ids, now(deps));
      for (const outcome of outcomes.values()) {
        if (outcome.kind === 'discarded') result.discarded++;
        else result.skipped.not_dead_lettered++;
      }
      result.settling += settle.length;
      await settleAgain(deps, settle);
    },
    (p) => opts.onProgress?.({ ...p, discarded: result.discarded }),
  );
  return result;
}

type DiscardOutcome =
  | { kind: 'discarded'; leadId: string; leadStatus: LeadStatus }
  | { kind: 'skipped'; deliveryStatus: DeliveryStatus }
  | { kind: 'not_found' };

/**
 * The one place that records discards, in one transaction, under the
 * worker's locks in the worker's order (leads, then deliveries, each by id).
 * Returns each delivery's outcome and the leads to hand back to the worker:
 * those that were `dead_lettered` and have no dead letter left.
 */
async function discard(
  db: Db,
  ids: string[],
  at: Date,
): Promise<{ outcomes: Map<string, DiscardOutcome>; settle: string[] }> {
  return sqlTransaction(
    sqlPool(db),
    async (tx) => {
      const outcomes = new Map<string, DiscardOutcome>(ids.map((id) => [id, { kind: 'not_found' }]));
      const targets = await tx.query(LEADS_OF_DELIVERIES, { ids });
      if (targets.length === 0) return { outcomes, settle: [] };
      const [leads, deliveries] = await tx.run([
        tx.call(LOCK_LEADS, { ids: targets.map((t) => t.leadId).sort() }),
        tx.call(LOCK_DELIVERIES, { ids }),
      ]);

      const discarded = deliveries.filter((d) => d.status === 'dead_lettered');
      for (const d of deliveries) {
        if (d.status !== 'dead_lettered') outcomes.set(d.id, { kind: 'skipped', deliveryStatus: d.status });
      }
      if (discarded.length === 0) return { outcomes, settle: [] };
      // Leads that were dead_lettered and now have no dead letter left: the worker settles them again.
      const touched = [...new Set(discarded.map((d) => d.leadId))];
      const [, left] = await tx.run([
        tx.call(DISCARD_DEAD_LETTERS, { ids: discarded.map((d) => d.id), reason: DISCARD_REASON, at }),
        tx.call(LEADS_WITH_DEAD_LETTERS, { leadIds: touched }),
      ]);
      const stillDead = new Set(left.map((r) => r.leadId));
      const statusOf = new Map(leads.map((l) => [l.id, l.status]));
      const settle = touched.filter((leadId) => statusOf.get(leadId) === 'dead_lettered' && !stillDead.has(leadId));
      if (settle.length > 0) {
        const firstDiscard = new Map<string, LockedDelivery>();
        for (const d of discarded) if (!firstDiscard.has(d.leadId)) firstDiscard.set(d.leadId, d);
        await tx.commit(
          reopen(tx, new Map(settle.map((leadId) => [leadId, firstDiscard.get(leadId)!])), at, (d) => ({
            reason: 'operator discarded a dead letter',
            deliveryId: d.id,
          })),
        );
      }
      const settling = new Set(settle);
      for (const d of discarded) {
        const leadStatus = settling.has(d.leadId) ? 'routing' : statusOf.get(d.leadId)!;
        outcomes.set(d.id, { kind: 'discarded', leadId: d.leadId, leadStatus });
      }
      return { outcomes, settle };
    },
    { retryConflicts: true },
  );
}

/** A `route` job per lead handed back; if Redis cannot take them now, the sweeper finds the leads (60 s). */
async function settleAgain(deps: OperationsDeps, leadIds: string[]): Promise<void> {
  if (leadIds.length > 0) await deps.queues.enqueueRoute(leadIds).catch(() => undefined);
}

function emptySkips(): Record<RequeueSkipReason, number> {
  return { not_dead_lettered: 0, sold: 0, busy: 0, partner_paused: 0, partner_inactive: 0, personal_data_erased: 0 };
}

function now(deps: { now?: () => Date }): Date {
  return deps.now ? deps.now() : new Date();
}
