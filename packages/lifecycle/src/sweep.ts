import {
  OVERDUE_DELIVERIES,
  OVERDUE_POSTBACKS,
  QUEUED_LEADS,
  runStatement,
  sqlPool,
  STUCK_LEADS,
  UNPARKED_DELIVERIES,
  type Statement,
} from '@leadrouter/db';
import { jobIds, QUEUES, type PartitionedQueue } from '@leadrouter/queue';
import type { LeadFlowDeps } from './flow.js';

/** A lead still `queued` this long after it was recorded has probably lost its job (Redis was away). */
export const QUEUED_GRACE_MS = 5_000;
/** A pending delivery this long past its due time has probably lost its job. */
export const PENDING_GRACE_MS = 30_000;
/** A routing lead with nothing pending for this long missed its advance step (crash between commit and enqueue). */
export const ROUTING_GRACE_MS = 60_000;
const BATCH = 500;

export interface SweepResult {
  leads: number;
  deliveries: number;
  advanced: number;
  postbacks: number;
}

/**
 * Sweeps (on one worker at a time, `startSweeper`): puts back on the queue what PostgreSQL says should be there: the 202
 * promise ("routed even if Redis was down") rests on this. Job ids make it
 * safe to run on every worker at once; the worker's Redis lock keeps it to one at a time.
 *
 * Typed statements through node-postgres, not Prisma: a worker that never
 * runs a Prisma query never loads its query compiler (~72 MB of RSS,
 * docs/performance.md). Orders are those Prisma used (by id where it had none).
 */
export async function sweep(deps: Pick<LeadFlowDeps, 'db' | 'queues' | 'now'>): Promise<SweepResult> {
  const { queues } = deps;
  const pool = sqlPool(deps.db);
  const now = deps.now().getTime();
  const result: SweepResult = { leads: 0, deliveries: 0, advanced: 0, postbacks: 0 };
  const select = <R>(stmt: Statement<{ before: Date; limit: number }, R>, since: number) =>
    runStatement(pool, stmt, { before: new Date(since), limit: BATCH });

  const queued = await select(QUEUED_LEADS, now - QUEUED_GRACE_MS);
  for (const { id } of queued) {
    if (await ensureJob(queues.route, QUEUES.route, { leadId: id }, jobIds.route(id))) result.leads++;
  }

  const pending = await select(OVERDUE_DELIVERIES, now - PENDING_GRACE_MS);

  // Deliveries parked while their partner was paused or inactive, if it was resumed or reactivated in between.
  const parked = await select(UNPARKED_DELIVERIES, now - PENDING_GRACE_MS);
  for (const d of [...pending, ...parked]) {
    const job = { deliveryId: d.id, attempt: d.attempts + 1 };
    if (await ensureJob(queues.deliver, QUEUES.deliver, job, jobIds.deliver(d.id, job.attempt))) result.deliveries++;
  }

  const stuck = await select(STUCK_LEADS, now - ROUTING_GRACE_MS);
  for (const { id } of stuck) {
    if (await ensureJob(queues.route, QUEUES.route, { leadId: id }, jobIds.route(id))) result.advanced++;
  }
  const postbacks = await select(OVERDUE_POSTBACKS, now - PENDING_GRACE_MS);
  for (const p of postbacks) {
    const job = { postbackId: p.id, attempt: p.attempts + 1 };
    if (await ensureJob(queues.postback, QUEUES.postback, job, jobIds.postback(p.id, job.attempt))) result.postbacks++;
  }
  return result;
}

/** Adds the job unless it exists; a job that failed for good is retried. Returns whether anything was (re)queued. */
async function ensureJob<T>(queue: PartitionedQueue<T>, name: string, data: T, jobId: string): Promise<boolean> {
  const existing = await queue.getJob(jobId);
  if (!existing) {
    await queue.add(name, data, { jobId });
    return true;
  }
  if (await existing.isFailed()) {
    await existing.retry('failed');
    return true;
  }
  return false;
}
