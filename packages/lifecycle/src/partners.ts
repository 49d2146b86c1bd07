import { apiKeyPrefix, generateFeedbackKey, hashApiKey, invalid, notFound } from '@leadrouter/core';
import { Prisma, runStatement, sqlPool, UNPARK_RETRIES, type Db, type Partner } from '@leadrouter/db';
import type { CacheTopic, Queues } from '@leadrouter/queue';

/** Drops cached rows on every replica (`SharedCaches`, ADR 0009); the CLI publishes without caching itself. */
export interface CacheInvalidation {
  invalidate(topic: CacheTopic): Promise<void>;
}

/** What the partner use cases need: the database, the queue for unparked retries, and the caches to drop. */
export interface PartnerDeps {
  db: Db;
  queues: Pick<Queues, 'enqueueDelivery'>;
  caches?: CacheInvalidation;
  log?: { warn(obj: object, msg: string): void };
}

/** The reason recorded when an operator pauses a partner without giving one. */
export const DEFAULT_PAUSE_REASON = 'paused by an operator';

/** A partner's row, or 404 (`partner not found`) for an id no partner has. */
async function updatePartner(db: Db, id: string, data: Prisma.PartnerUpdateInput): Promise<Partner> {
  try {
    return await db.partner.update({ where: { id }, data });
  } catch (err) {
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2025') throw notFound('partner');
    throw err;
  }
}

/**
 * Pauses a partner: new leads skip it and its retries wait (parked), as after
 * the circuit breaker, until it is resumed. `reason` is 1 to 500 characters.
 */
export async function pausePartner(deps: Omit<PartnerDeps, 'queues'>, id: string, reason?: unknown): Promise<Partner> {
  if (reason !== undefined && (typeof reason !== 'string' || reason.length === 0 || reason.length > 500))
    throw invalid([{ field: '/reason', message: 'must be a text of 1 to 500 characters' }]);
  const partner = await updatePartner(deps.db, id, {
    pausedAt: new Date(),
    pauseReason: reason ?? DEFAULT_PAUSE_REASON,
  });
  // Every worker drops its cached rules, so the next lead sees the change.
  await deps.caches?.invalidate('rules');
  return partner;
}

/**
 * Resumes a partner (its failure count starts over) and puts the retries that
 * waited while it was paused back on the deliver queue, unless it is inactive.
 * `requeued`: how many went on the queue (those Redis did not take are left
 * to the worker's sweeper).
 */
export async function resumePartner(deps: PartnerDeps, id: string): Promise<{ partner: Partner; requeued: number }> {
  const partner = await updatePartner(deps.db, id, { pausedAt: null, pauseReason: null, consecutiveFailures: 0 });
  await deps.caches?.invalidate('rules');
  return { partner, requeued: await requeueParked(deps, partner.id) };
}

/**
 * Makes the partner's parked retries due and puts them on the deliver queue
 * (if it is active and not paused); returns how many went on the queue.
 */
export async function requeueParked(deps: PartnerDeps, partnerId: string): Promise<number> {
  const parked = await runStatement(sqlPool(deps.db), UNPARK_RETRIES, { partnerId });
  let requeued = 0;
  try {
    for (const d of parked) {
      await deps.queues.enqueueDelivery({ deliveryId: d.id, attempt: d.attempts + 1 });
      requeued++;
    }
  } catch (err) {
    deps.log?.warn(
      { err: { message: (err as Error).message } },
      'could not requeue every parked delivery; the sweeper will',
    );
  }
  return requeued;
}

/** A partner as an operator's list shows it. */
export interface PartnerSummary {
  id: string;
  name: string;
  status: 'active' | 'paused' | 'inactive';
  pausedAt: Date | null;
  pauseReason: string | null;
}

/** `active`, `paused` or `inactive`, as the admin API reports it. */
export function partnerStatus(p: Pick<Partner, 'active' | 'pausedAt'>): PartnerSummary['status'] {
  return !p.active ? 'inactive' : p.pausedAt ? 'paused' : 'active';
}

/** Every partner, by name. */
export async function listPartners(db: Db): Promise<PartnerSummary[]> {
  const rows = await db.partner.findMany({
    orderBy: { name: 'asc' },
    select: { id: true, name: true, active: true, pausedAt: true, pauseReason: true },
  });
  return rows.map((p) => ({
    id: p.id,
    name: p.name,
    status: partnerStatus(p),
    pausedAt: p.pausedAt,
    pauseReason: p.pauseReason,
  }));
}

/**
 * Gives a partner a new feedback key (its first, for a partner created before keys existed); the old one
 * stops working at once (feedback keys are looked up by hash on every request, never cached). The key is
 * returned once, to be shown once: only its hash and prefix are stored.
 */
export async function rotatePartnerFeedbackKey(db: Db, id: string): Promise<{ partner: Partner; feedbackKey: string }> {
  const feedbackKey = generateFeedbackKey();
  const partner = await updatePartner(db, id, {
    feedbackKeyHash: hashApiKey(feedbackKey),
    feedbackKeyPrefix: apiKeyPrefix(feedbackKey),
  });
  return { partner, feedbackKey };
}
