import { postbackBody, storableText, type LeadStatus, type PostbackStatus } from '@leadrouter/core';
import { sqlPool } from '@leadrouter/db';
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
 * would be, then marked failed. Plain SQL through node-postgres, like the
 * rest of the worker: no Prisma query compiler in its memory.
 */
export async function sendPostback(deps: WorkerDeps, job: PostbackJob): Promise<PostbackStepResult> {
  const pool = sqlPool(deps.db);
  const {
    rows: [postback],
  } = await pool.query<PostbackRow>(
    `SELECT p.id, p.lead_id, p.lead_status::text, p.status::text, p.attempts, p.created_at, s.postback_url,
            s.postback_secret
     FROM postbacks p JOIN sources s ON s.id = p.source_id WHERE p.id = $1`,
    [job.postbackId],
  );
  if (!postback || postback.status !== 'pending' || postback.attempts !== job.attempt - 1) return 'stale';
  const url = postback.postback_url;
  if (!url) {
    await pool.query(
      `UPDATE postbacks SET status = 'failed', last_error = 'the source has no postbackUrl any more', updated_at = now()
       WHERE id = $1`,
      [postback.id],
    );
    return 'failed';
  }

  // The postback row is written in the transaction that moved the lead to its status: its time is the status's.
  const body = JSON.stringify(postbackBody(postback.lead_id, postback.lead_status, postback.created_at));
  const secret = postback.postback_secret;
  const result = await send(
    {
      url,
      method: 'POST',
      body,
      timeoutMs: POSTBACK_POLICY.timeoutMs,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'leadrouter',
        'x-lead-id': postback.lead_id,
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

  const moved = await pool.query(
    `UPDATE postbacks SET attempts = $2, status = $3::"PostbackStatus", next_attempt_at = $4, last_error = $5,
       http_status = $6, updated_at = now()
     WHERE id = $1 AND status = 'pending' AND attempts = $2 - 1`,
    [
      postback.id,
      job.attempt,
      step === 'retry' ? 'pending' : step,
      step === 'retry' ? new Date(now.getTime() + retryInMs) : null,
      // The source's server is as untrusted as a partner: whatever text it caused is stored as storable text.
      verdict.outcome === 'accepted' ? null : storableText(verdict.reason, { chars: 1000 }),
      result.kind === 'response' ? result.status : null,
    ],
  );
  if (moved.rowCount === 0) return 'stale';
  deps.metrics?.postbacks.inc({ outcome: step });
  deps.log.info(
    { leadId: postback.lead_id, postbackId: postback.id, attempt: job.attempt, outcome: step },
    'postback attempt',
  );
  if (step === 'retry')
    await deps.queues.enqueuePostback({ postbackId: postback.id, attempt: job.attempt + 1 }, retryInMs);
  return step;
}

/** A postback with its source's postback settings. */
interface PostbackRow {
  id: string;
  lead_id: string;
  lead_status: LeadStatus;
  status: PostbackStatus;
  attempts: number;
  created_at: Date;
  postback_url: string | null;
  postback_secret: string | null;
}
