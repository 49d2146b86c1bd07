import {
  backoffDelay,
  buildRequest,
  classify,
  excerpt,
  readPartnerAnswer,
  send,
  type AcceptWhen,
  type ResponseMap,
} from '@leadrouter/delivery';
import type { DeliverJob } from '@leadrouter/queue';
import type { WorkerDeps } from './deps.js';
import { advanceLocked, lockLead } from './lead-flow.js';
import { toPublicLead } from './mappers.js';
import { enqueueDeliveries } from './route-lead.js';

export type DeliveryStepResult = 'stale' | 'accepted' | 'rejected' | 'retry' | 'dead_lettered';

/**
 * The `deliver` job: one attempt of one delivery. The attempt is recorded and
 * the delivery moved on in one transaction under the lead's lock; a retry is
 * a new delayed job, so no worker slot is held while waiting. A job for an
 * attempt already made (a repeat after a crash) does nothing.
 */
export async function deliverAttempt(deps: WorkerDeps, job: DeliverJob): Promise<DeliveryStepResult> {
  const { db, log } = deps;
  const delivery = await db.delivery.findUnique({
    where: { id: job.deliveryId },
    include: { partner: true, lead: true },
  });
  if (!delivery || delivery.status !== 'pending' || delivery.attempts !== job.attempt - 1) return 'stale';
  const { partner, lead } = delivery;

  const request = buildRequest(
    {
      id: partner.id,
      url: partner.url,
      method: partner.method,
      headers: partner.headers as Record<string, string>,
      fieldMap: partner.fieldMap as Record<string, string> | null,
      timeoutMs: partner.timeoutMs,
    },
    toPublicLead(lead),
    delivery.id,
  );
  const result = await send(request);
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

  const next = await db.$transaction(async (tx): Promise<{ jobs: DeliverJob[]; delayMs: number } | null> => {
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
    if (step === 'retry') return { jobs: [{ deliveryId: delivery.id, attempt: job.attempt + 1 }], delayMs: retryInMs };
    if (!locked?.routing || locked.status !== 'routing') return { jobs: [], delayMs: 0 };
    const outcome = {
      partnerId: partner.id,
      decision: step,
      ...(error ? { reason: error } : {}),
      at: now.toISOString(),
    } as const;
    return { jobs: await advanceLocked(tx, lead.id, locked.routing, now, outcome), delayMs: 0 };
  });

  if (!next) return 'stale';
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
  await enqueueDeliveries(deps, next.jobs, next.delayMs);
  return step;
}
