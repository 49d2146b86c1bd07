import { postbackBody } from '@leadrouter/core/runtime';
import {
  FAIL_POSTBACK_WITHOUT_URL,
  LOAD_POSTBACK,
  RECORD_POSTBACK_ATTEMPT,
  runStatement,
  sqlPool,
} from '@leadrouter/db';
import { classify, signatureHeaders } from '@leadrouter/delivery/requests';
import { amount, amountNumber } from '@leadrouter/money';
import type { PostbackJob } from '@leadrouter/queue';
import { decidePostback, POSTBACK_POLICY } from './decide/postback.js';
import type { LeadFlowDeps } from './flow.js';

export type PostbackStepResult = 'stale' | 'delivered' | 'retry' | 'failed';

/**
 * Sends a postback (the worker's `postback` job): tells the lead's source its final status, or a
 * feedback event of its lead with what the source earns or gives back by it
 * (`postbackBody`: no partner, no price) at its postbackUrl, signed like a delivery with the
 * source's postbackSecret. 2xx: done; 4xx (but 408/429): the source refused
 * it, not retried; anything else is retried with backoff as a delivery
 * would be, then marked failed (`decidePostback`). Typed statements through node-postgres, like
 * the rest of the worker: no Prisma query compiler in its memory.
 */
export async function sendPostback(deps: LeadFlowDeps, job: PostbackJob): Promise<PostbackStepResult> {
  const pool = sqlPool(deps.db);
  const [postback] = await runStatement(pool, LOAD_POSTBACK, { id: job.postbackId });
  if (!postback || postback.status !== 'pending' || postback.attempts !== job.attempt - 1) return 'stale';
  const url = postback.postbackUrl;
  if (!url) {
    await runStatement(pool, FAIL_POSTBACK_WITHOUT_URL, { id: postback.id });
    return 'failed';
  }

  // The postback row is written in the transaction that moved the lead to its status (or recorded the event):
  // its time is the status's, or the event's own.
  const status = postback.event ?? postback.leadStatus;
  if (status === null) throw new Error(`postback ${postback.id} reports neither a status nor an event`);
  const body = JSON.stringify(
    postbackBody(postback.leadId, status, postback.at, {
      payout: postback.payout === null ? null : amountNumber(amount(postback.payout)),
      reason: postback.reason,
    }),
  );
  const secret = postback.postbackSecret;
  const result = await deps.send({
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
  });
  const now = deps.now();
  const decision = decidePostback(classify(result, null, now), job.attempt, deps.random);
  const { step } = decision;
  const retryInMs = decision.step === 'retry' ? decision.retryInMs : 0;

  const moved = await runStatement(pool, RECORD_POSTBACK_ATTEMPT, {
    id: postback.id,
    attempt: job.attempt,
    status: step === 'retry' ? 'pending' : step,
    nextAttemptAt: step === 'retry' ? new Date(now.getTime() + retryInMs) : null,
    error: decision.step === 'delivered' ? null : decision.error,
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
