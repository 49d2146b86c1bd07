import { conflict, notFound, UUID_RE } from '@leadrouter/core/runtime';
import {
  ERASE_PERSONAL_DATA,
  LEADS_PAST_RETENTION,
  LOCK_LEAD_FOR_ERASURE,
  PRUNE_ERASED_CONTACTS,
  runStatement,
  sqlPool,
  sqlTransaction,
  type Db,
  type ErasureDetail,
} from '@leadrouter/db';
import { decideErasure } from './decide/erasure.js';

// Personal-data erasure (ADR 0031): one lead at an operator's request (the right to erasure), and the leads
// older than PII_RETENTION_DAYS in the worker's housekeeping. Both erase through ERASE_PERSONAL_DATA, under
// the leads' row locks, and keep the lead's money, statuses, deliveries' outcomes and ids.

/** Who asked for an erasure, for its event on the lead's timeline: never what is erased. */
export interface ErasureRequest {
  via: 'api' | 'cli';
  /** Why, in the operator's words (at most 500 characters); it must not repeat the personal data. */
  reason?: string;
}

/** What an operator's erasure answers: when the lead's personal data was erased, and whether that was now. */
export interface Erasure {
  id: string;
  personalDataErasedAt: string;
  /** It had been erased before: this request changed nothing. */
  alreadyErased: boolean;
}

/** The longest reason an erasure's event keeps. */
export const ERASURE_REASON_MAX = 500;

/**
 * Erases one lead's personal data now, in one transaction under its row lock
 * (the worker's lock), with an event on its timeline saying who asked and
 * why. A lead erased before is answered as it is (idempotent). A lead still
 * being delivered is a 409: a partner's next attempt needs its data; erase it
 * once it has settled. An unknown lead is a 404.
 */
export async function erasePersonalData(
  deps: { db: Db; now?: () => Date },
  leadId: string,
  request: ErasureRequest,
): Promise<Erasure> {
  if (!UUID_RE.test(leadId)) throw notFound('lead');
  const id = leadId.toLowerCase();
  const at = deps.now?.() ?? new Date();
  const reason = request.reason?.trim().slice(0, ERASURE_REASON_MAX);
  return sqlTransaction(sqlPool(deps.db), async (tx) => {
    const [lead] = await tx.query(LOCK_LEAD_FOR_ERASURE, { leadId: id });
    if (!lead) throw notFound('lead');
    const decision = decideErasure(lead);
    switch (decision.outcome) {
      case 'already_erased':
        return { id, personalDataErasedAt: decision.at.toISOString(), alreadyErased: true };
      case 'in_flight':
        throw conflict(
          `the lead is still being delivered (${decision.status}): its personal data is erased once it has settled; ask again then`,
          { status: decision.status },
        );
      case 'erase': {
        const detail: ErasureDetail = {
          event: 'personal_data_erased',
          by: 'operator',
          via: request.via,
          ...(reason ? { reason } : {}),
        };
        await tx.commit([tx.call(ERASE_PERSONAL_DATA, { ids: [id], at, detail })]);
        return { id, personalDataErasedAt: at.toISOString(), alreadyErased: false };
      }
    }
  });
}

/** Leads one retention transaction erases at most: each batch is a short transaction of its own. */
export const RETENTION_BATCH = 500;
/**
 * Batches one round runs at most (500,000 leads, about six minutes at the ~1,300 leads/s measured in ADR 0031);
 * what is left waits for the next round.
 */
export const RETENTION_MAX_BATCHES = 1_000;

/** What one round of the retention did. */
export interface RetentionRound {
  /** Leads whose personal data it erased. */
  erased: number;
  /** Transactions it ran (the last one may have found nothing). */
  batches: number;
}

/**
 * Erases the personal data of the leads created more than `retentionDays`
 * days before `now`, oldest first, in transactions of `batch` leads: each
 * locks its leads (those another transaction holds are skipped, so several
 * workers can run it at once and never erase a lead twice) and erases them
 * in one statement. Leads still being delivered wait for a later round.
 * Stops early when `stopping()` says so.
 */
export async function eraseExpiredPersonalData(
  deps: { db: Db; now: () => Date },
  retentionDays: number,
  opts: { batch?: number; maxBatches?: number; stopping?: () => boolean } = {},
): Promise<RetentionRound> {
  const pool = sqlPool(deps.db);
  const batch = opts.batch ?? RETENTION_BATCH;
  const now = deps.now();
  const before = new Date(now.getTime() - retentionDays * 24 * 60 * 60_000);
  const detail: ErasureDetail = { event: 'personal_data_erased', by: 'retention' };
  const round: RetentionRound = { erased: 0, batches: 0 };
  for (let i = 0; i < (opts.maxBatches ?? RETENTION_MAX_BATCHES) && !opts.stopping?.(); i++) {
    const { selected, erased } = await sqlTransaction(pool, async (tx) => {
      const ids = (await tx.query(LEADS_PAST_RETENTION, { before, limit: batch })).map((r) => r.id);
      if (ids.length === 0) return { selected: 0, erased: 0 };
      const [rows] = await tx.commit([tx.call(ERASE_PERSONAL_DATA, { ids, at: now, detail })]);
      return { selected: ids.length, erased: rows.length };
    });
    round.batches++;
    round.erased += erased;
    if (selected < batch) break;
  }
  return round;
}

/** Digests one statement deletes at most. */
export const PRUNE_BATCH = 5_000;

/**
 * Deletes the digests of erased leads (operators' erasures and the
 * retention's) that no source's duplicate window reaches any more at `now`,
 * in statements of `batch` rows. Returns how many it deleted.
 */
export async function pruneErasedContacts(
  deps: { db: Db; now: () => Date },
  opts: { batch?: number; maxBatches?: number; stopping?: () => boolean } = {},
): Promise<number> {
  const pool = sqlPool(deps.db);
  const batch = opts.batch ?? PRUNE_BATCH;
  const at = deps.now();
  let pruned = 0;
  for (let i = 0; i < (opts.maxBatches ?? RETENTION_MAX_BATCHES) && !opts.stopping?.(); i++) {
    const [{ deleted = 0 } = {}] = await runStatement(pool, PRUNE_ERASED_CONTACTS, { at, limit: batch });
    pruned += deleted;
    if (deleted < batch) break;
  }
  return pruned;
}
