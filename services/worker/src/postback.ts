import { postbackBody, storableText } from '@leadrouter/core';
import {
  FAIL_POSTBACK_WITHOUT_URL,
  LOAD_POSTBACK,
  RECORD_POSTBACK_ATTEMPT,
  runStatement,
  sqlPool,
} from '@leadrouter/db';
import { backoffDelay, classify, send, signatureHeaders } from '@leadrouter/delivery';
import type { PostbackJob } from '@leadrouter/queue';
import type { WorkerDeps } from './deps.js';

/** Postbacks retry like a partner with the default policy (README "Postbacks (for sources)"). */
export const POSTBACK_POLICY = { timeoutMs: 10_000, maxAttempts: 8, delayMs: 1_000, maxDelayMs: 3_600_000 };

export type PostbackStepResult = 'stale' | 'delivered' | 'retry' | 'failed';

/**
 * The `postback` job: tells the lead's source its final status
 * (`postbackBody`: no partner, no price) at its postbackUrl, signed like a delivery with the
 * source's postbackSecret. 2xx: done; 4xx (but 408/429): the source refused
 * it, not retried; anything else is retried with backoff as a delivery
 * would be, then marked failed. Typed statements through node-postgres, like
 * the rest of the worker: no Prisma query compiler in its memory.
 */
export async function sendPostback(deps: WorkerDeps, job: PostbackJob): Promise<PostbackStepResult> {
  const pool = sqlPool(deps.db);
  const [postback] = await runStatement(pool, LOAD_POSTBACK, { id: job.postbackId });
  if (!postback || postback.status !== 'pending' || postback.attempts !== job.attempt - 1) return 'stale';
  const url = postback.postbackUrl;
  if (!url) {
    await runStatement(pool, FAIL_POSTBACK_WITHOUT_URL, { id: postback.id });
    return 'failed';
  }

  // The postback row is written in the transaction that moved the lead to its status: its time is the status's.
  const body = JSON.stringify(postbackBody(postback.leadId, postback.leadStatus, postback.createdAt));
  const secret = postback.postbackSecret;
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

  const moved = await runStatement(pool, RECORD_POSTBACK_ATTEMPT, {
    id: postback.id,
    attempt: job.attempt,
    status: step === 'retry' ? 'pending' : step,
    nextAttemptAt: step === 'retry' ? new Date(now.getTime() + retryInMs) : null,
    // The source's server is as untrusted as a partner: whatever text it caused is stored as storable text.
    error: verdict.outcome === 'accepted' ? null : storableText(verdict.reason, { chars: 1000 }),
    httpStatus: result.kind === 'response' ? result.status : null,
  });
  if (moved.length === 0) return 'stale';
  deps.metrics?.postbacks.inc({ outcome: step });
  deps.log.info(
    { leadId: postback.leadId, postbackId: postback.id, attempt: job.attempt, outcome: step },
    'postback attempt',
  );
  if (step === 'retry')
    await deps.queues.enqueuePostback({ postbackId: postback.id, attempt: job.attempt + 1 }, retryInMs);
  return step;
}
