import { backoffDelay, classify, send, signatureHeaders } from '@leadrouter/delivery';
import type { PostbackJob } from '@leadrouter/queue';
import type { WorkerDeps } from './deps.js';

/** Postbacks retry like a partner with the SPEC's default policy. */
export const POSTBACK_POLICY = { timeoutMs: 10_000, maxAttempts: 8, delayMs: 1_000, maxDelayMs: 3_600_000 };

export type PostbackStepResult = 'stale' | 'delivered' | 'retry' | 'failed';

/**
 * The `postback` job: tells the lead's source its final status —
 * `{"id","status","partner"?,"price"?}` — at its postbackUrl, signed like a
 * delivery with the source's postbackSecret. 2xx: done; 4xx (but 408/429):
 * the source refused it, not retried; anything else is retried with backoff
 * as a delivery would be, then marked failed.
 */
export async function sendPostback(deps: WorkerDeps, job: PostbackJob): Promise<PostbackStepResult> {
  const { db } = deps;
  const postback = await db.postback.findUnique({ where: { id: job.postbackId }, include: { source: true } });
  if (!postback || postback.status !== 'pending' || postback.attempts !== job.attempt - 1) return 'stale';
  const url = postback.source.postbackUrl;
  if (!url) {
    await db.postback.update({
      where: { id: postback.id },
      data: { status: 'failed', lastError: 'the source has no postbackUrl any more' },
    });
    return 'failed';
  }

  const accepted = await db.delivery.findMany({
    where: { leadId: postback.leadId, status: 'accepted' },
    orderBy: { updatedAt: 'asc' },
    select: { price: true, partner: { select: { name: true } } },
  });
  const price = accepted.reduce((sum, d) => sum + (d.price === null ? 0 : Number(d.price)), 0);
  const payload = {
    id: postback.leadId,
    status: postback.leadStatus,
    ...(postback.leadStatus === 'delivered' && accepted[0] ? { partner: accepted[0].partner.name } : {}),
    ...(postback.leadStatus === 'delivered' && accepted.some((d) => d.price !== null) ? { price } : {}),
  };
  const body = JSON.stringify(payload);
  const secret = postback.source.postbackSecret;
  const result = await send(
    {
      url,
      method: 'POST',
      body,
      timeoutMs: POSTBACK_POLICY.timeoutMs,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'leadrouter',
        'x-lead-id': postback.leadId,
        // The postback id is the message id: the same on every retry of this postback.
        ...(secret ? signatureHeaders(secret, postback.id, deps.now(), body) : {}),
      },
    },
    deps.agents,
  );
  const now = deps.now();
  const verdict = classify(result, null, now);
  const step: PostbackStepResult =
    verdict.outcome === 'accepted'
      ? 'delivered'
      : verdict.outcome === 'rejected' || job.attempt >= POSTBACK_POLICY.maxAttempts
        ? 'failed'
        : 'retry';
  const retryInMs =
    step === 'retry'
      ? Math.min(
          POSTBACK_POLICY.maxDelayMs,
          (verdict.outcome === 'retry' ? verdict.retryAfterMs : undefined) ??
            backoffDelay(job.attempt, POSTBACK_POLICY.delayMs, POSTBACK_POLICY.maxDelayMs, deps.random),
        )
      : 0;

  const moved = await db.postback.updateMany({
    where: { id: postback.id, status: 'pending', attempts: job.attempt - 1 },
    data: {
      attempts: job.attempt,
      status: step === 'retry' ? 'pending' : step,
      nextAttemptAt: step === 'retry' ? new Date(now.getTime() + retryInMs) : null,
      lastError: verdict.outcome === 'accepted' ? null : verdict.reason.slice(0, 1000),
      httpStatus: result.kind === 'response' ? result.status : null,
    },
  });
  if (moved.count === 0) return 'stale';
  deps.metrics?.postbacks.inc({ outcome: step });
  deps.log.info(
    { leadId: postback.leadId, postbackId: postback.id, attempt: job.attempt, outcome: step },
    'postback attempt',
  );
  if (step === 'retry')
    await deps.queues.enqueuePostback({ postbackId: postback.id, attempt: job.attempt + 1 }, retryInMs);
  return step;
}
