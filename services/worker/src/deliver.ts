import {
  backoffDelay,
  buildRequest,
  classify,
  excerpt,
  readPartnerAnswer,
  send,
  type AcceptWhen,
  type Classification,
  type ResponseMap,
} from '@leadrouter/delivery';
import type { Prisma } from '@leadrouter/db';
import type { DeliverJob } from '@leadrouter/queue';
import type { WorkerDeps } from './deps.js';
import { advanceLocked, lockLead } from './lead-flow.js';
import { toPublicLead } from './mappers.js';
import { PartnerSlots } from './partner-slots.js';
import { enqueueDeliveries, enqueueFollowups } from './route-lead.js';
import type { Followups } from './lead-flow.js';

export type DeliveryStepResult = 'stale' | 'accepted' | 'rejected' | 'retry' | 'dead_lettered' | 'paused' | 'busy';

/**
 * The `deliver` job: one attempt of one delivery. The attempt is recorded and
 * the delivery moved on in one transaction under the lead's lock; a retry is
 * a new delayed job, so no worker slot is held while waiting. A job for an
 * attempt already made (a repeat after a crash) does nothing.
 */
export async function deliverAttempt(deps: WorkerDeps, job: DeliverJob): Promise<DeliveryStepResult> {
  const { db, log } = deps;
  const delivery = await loadDelivery(deps, job.deliveryId);
  if (!delivery || delivery.status !== 'pending' || delivery.attempts !== job.attempt - 1) return 'stale';
  const { partner, lead } = delivery;

  if (partner.pausedAt) {
    // A paused partner's retries wait in PostgreSQL (no due time) until an operator resumes it.
    await db.delivery.updateMany({
      where: { id: delivery.id, status: 'pending', attempts: job.attempt - 1 },
      data: { nextAttemptAt: null },
    });
    log.info({ leadId: lead.id, deliveryId: delivery.id, partner: partner.name }, 'partner paused; delivery parked');
    return 'paused';
  }
  const release = await new PartnerSlots(deps.redis, deps.config.QUEUE_PREFIX).tryAcquire(
    partner.id,
    partner.concurrency,
    partner.timeoutMs,
  );
  if (!release) return 'busy';
  try {
    return await attempt(deps, job, delivery);
  } finally {
    await release().catch((err: unknown) =>
      log.warn({ err, partner: partner.name }, 'could not release a partner slot'),
    );
  }
}

type LoadedDelivery = NonNullable<Awaited<ReturnType<typeof loadDelivery>>>;

function loadDelivery(deps: WorkerDeps, deliveryId: string) {
  return deps.db.delivery.findUnique({ where: { id: deliveryId }, include: { partner: true, lead: true } });
}

async function attempt(deps: WorkerDeps, job: DeliverJob, delivery: LoadedDelivery): Promise<DeliveryStepResult> {
  const { db, log } = deps;
  const { partner, lead } = delivery;

  const request = buildRequest(
    {
      id: partner.id,
      url: partner.url,
      method: partner.method,
      headers: partner.headers as Record<string, string>,
      fieldMap: partner.fieldMap as Record<string, string> | null,
      timeoutMs: partner.timeoutMs,
      secret: partner.secret,
    },
    toPublicLead(lead),
    delivery.id,
    deps.now(),
  );
  const result = await send(request, deps.agents);
  const now = deps.now();
  const verdict = classify(result, partner.acceptWhen as AcceptWhen | null, now);
  // Each operator retry from the dead letters gives the delivery a fresh `maxAttempts`.
  const attemptInRound = job.attempt - delivery.attemptsBase;
  const exhausted = verdict.outcome === 'retry' && attemptInRound >= partner.maxAttempts;
  const step: DeliveryStepResult =
    verdict.outcome === 'retry' ? (exhausted ? 'dead_lettered' : 'retry') : verdict.outcome;
  const retryInMs =
    verdict.outcome === 'retry' && !exhausted
      ? Math.min(
          partner.backoffMaxDelayMs,
          verdict.retryAfterMs ??
            backoffDelay(attemptInRound, partner.backoffDelayMs, partner.backoffMaxDelayMs, deps.random),
        )
      : 0;
  const answer =
    result.kind === 'response' ? readPartnerAnswer(result.body, partner.responseMap as ResponseMap | null) : {};
  const reason = verdict.outcome === 'rejected' && answer.reason ? `${verdict.reason}: ${answer.reason}` : undefined;
  const error = verdict.outcome === 'accepted' ? null : (reason ?? verdict.reason).slice(0, 1000);
  const price = answer.price ?? (partner.price === null ? null : Number(partner.price));

  let pausedPartner = false;
  const next = await db.$transaction(async (tx): Promise<{ followups: Followups; delayMs: number } | null> => {
    const locked = await lockLead(tx, lead.id);
    const moved = await tx.delivery.updateMany({
      where: { id: delivery.id, status: 'pending', attempts: job.attempt - 1 },
      data: {
        attempts: job.attempt,
        status: step === 'retry' ? 'pending' : step,
        nextAttemptAt: step === 'retry' ? new Date(now.getTime() + retryInMs) : null,
        lastError: error,
        ...(step === 'dead_lettered' ? { deadLetteredAt: now } : {}),
        ...(step === 'accepted' ? { price, reference: answer.reference ?? null } : {}),
        ...(answer.reason ? { reason: answer.reason } : {}),
      },
    });
    if (moved.count === 0) return null; // another worker recorded this attempt first
    await tx.deliveryAttempt.create({
      data: {
        deliveryId: delivery.id,
        attempt: job.attempt,
        outcome: step === 'dead_lettered' ? 'failed' : step,
        httpStatus: result.kind === 'response' ? result.status : null,
        durationMs: result.durationMs,
        error,
        responseExcerpt: result.kind === 'response' ? excerpt(result.body) : null,
      },
    });
    pausedPartner = await trackPartnerHealth(tx, deps, partner, step, verdict, error, now);
    if (step === 'retry') {
      return {
        followups: { deliveries: [{ deliveryId: delivery.id, attempt: job.attempt + 1 }], postbacks: [] },
        delayMs: retryInMs,
      };
    }
    if (!locked?.routing || locked.status !== 'routing')
      return { followups: { deliveries: [], postbacks: [] }, delayMs: 0 };
    const outcome = {
      partnerId: partner.id,
      decision: step,
      ...(error ? { reason: error } : {}),
      at: now.toISOString(),
    } as const;
    return {
      followups: await advanceLocked(tx, lead.id, locked.routing, now, { outcome, postback: locked.postback }),
      delayMs: 0,
    };
  });

  if (!next) return 'stale';
  // New leads must skip the partner it paused: every worker drops its cached rules.
  if (pausedPartner) await deps.caches?.invalidate('rules');
  deps.metrics?.deliveryAttempts.inc({ partner: partner.name, outcome: step });
  deps.metrics?.deliveryDuration.observe({ partner: partner.name }, result.durationMs / 1000);
  log.info(
    {
      leadId: lead.id,
      deliveryId: delivery.id,
      partner: partner.name,
      attempt: job.attempt,
      outcome: step,
      httpStatus: result.kind === 'response' ? result.status : undefined,
      retryInMs: step === 'retry' ? retryInMs : undefined,
    },
    'delivery attempt',
  );
  if (next.delayMs > 0) await enqueueDeliveries(deps, next.followups.deliveries, next.delayMs);
  else await enqueueFollowups(deps, next.followups);
  return step;
}

/**
 * The circuit breaker: a failed attempt (5xx, timeout, connection error,
 * redirect) counts against the partner, a real answer (accepted or rejected)
 * clears the count. `pauseAfterFailures` failures in a row, or a 410 Gone,
 * pause the partner: new leads skip it and its retries wait until an
 * operator resumes it.
 */
async function trackPartnerHealth(
  tx: Prisma.TransactionClient,
  { log, metrics }: WorkerDeps,
  { id: partnerId, name: partnerName, consecutiveFailures }: { id: string; name: string; consecutiveFailures: number },
  step: DeliveryStepResult,
  verdict: Classification,
  error: string | null,
  now: Date,
): Promise<boolean> {
  if (verdict.outcome === 'rejected' && verdict.pausePartner) {
    const paused = await tx.partner.updateMany({
      where: { id: partnerId, pausedAt: null },
      data: { pausedAt: now, pauseReason: verdict.reason.slice(0, 500) },
    });
    if (paused.count > 0) {
      log.warn({ partnerId, reason: verdict.reason }, 'partner paused');
      metrics?.partnerPauses.inc({ partner: partnerName });
    }
    return paused.count > 0;
  }
  if (step !== 'retry' && step !== 'dead_lettered') {
    // Nothing to clear when the partner had no failures a moment ago (the common case: one round trip fewer).
    // A failure recorded meanwhile by another worker then stays counted, one step nearer a pause.
    if (consecutiveFailures === 0) return false;
    await tx.partner.updateMany({
      where: { id: partnerId, consecutiveFailures: { gt: 0 } },
      data: { consecutiveFailures: 0 },
    });
    return false;
  }
  const [row] = await tx.$queryRaw<{ failures: number; threshold: number; paused: boolean }[]>`
    UPDATE partners SET consecutive_failures = consecutive_failures + 1
    WHERE id = ${partnerId}::uuid
    RETURNING consecutive_failures AS failures, pause_after_failures AS threshold, paused_at IS NOT NULL AS paused`;
  if (row && !row.paused && row.failures >= row.threshold) {
    const reason = `${row.failures} failed attempts in a row (last: ${error ?? 'unknown'})`.slice(0, 500);
    await tx.partner.update({ where: { id: partnerId }, data: { pausedAt: now, pauseReason: reason } });
    log.warn({ partnerId, failures: row.failures }, 'partner paused by the circuit breaker');
    metrics?.partnerPauses.inc({ partner: partnerName });
    return true;
  }
  return false;
}
