import type { NextFunction, Request, Response, Router } from 'express';
import { money as table } from '@leadrouter/api';
import { AppError, hashApiKey, unauthorized } from '@leadrouter/core';
import { PARTNER_BY_FEEDBACK_KEY, runStatement, sqlPool, SqlTransactionGroups } from '@leadrouter/db';
import {
  feedbackPartnerOf,
  parseFeedback,
  recordFeedbackEvents,
  type FeedbackAnswer,
  type FeedbackInput,
  type FeedbackPartner,
} from '@leadrouter/lifecycle';
import type { AppDeps } from '../deps.js';
import { enqueuePostbacks } from '../admin/returns.js';
import { clientKey } from '../http/auth-failures.js';
import { findByKeyHash, presentedKey } from '../http/auth.js';
import { tableRouter } from '../http/bind.js';
import { errorBody } from '../http/errors.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** The partner whose feedback key was presented (`POST /v1/feedback`). */
    partner?: FeedbackPartner;
  }
}

/** How long a partner found by its feedback key is kept at most (every partner write drops it at once). */
export const FEEDBACK_PARTNER_CACHE_TTL_MS = 5_000;

/**
 * A partner's feedback key, looked up by its hash. Partners found are cached by key hash with the routing
 * rules (`caches`, topic `rules`), which every partner write — the key's rotation included — drops on every
 * replica before it answers, so a rotated key stops working for the very next request, as a source's does
 * (ADR 0026 "Group commit": one round trip and one transaction fewer for each request). Unknown keys are not
 * cached. A request without a valid key counts against its client address like one without a source key
 * (ADR 0014): past the limit it is a 429, answered without a lookup.
 */
function partnerAuth(deps: AppDeps) {
  const pool = sqlPool(deps.db);
  const { authFailures: failures } = deps;
  const cache = deps.caches?.cache<string, FeedbackPartner | null>(
    'rules',
    FEEDBACK_PARTNER_CACHE_TTL_MS,
    'feedback-partners',
  );
  const find = async (hash: string): Promise<FeedbackPartner | null> => {
    const [row] = await runStatement(pool, PARTNER_BY_FEEDBACK_KEY, { hash });
    return row ? feedbackPartnerOf(row) : null;
  };
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const key = presentedKey(req);
    const address = clientKey(req.ip);
    const throttledMs = failures.throttledFor(address);
    const refuse = async (message: string): Promise<AppError> => {
      const ms = throttledMs > 0 ? throttledMs : await failures.fail(address);
      deps.metrics.authFailures.inc({ answer: ms > 0 ? 'throttled' : 'unauthorized' });
      if (ms === 0) return unauthorized(message);
      const retryAfterSeconds = Math.max(1, Math.ceil(ms / 1000));
      return new AppError(
        'auth_throttled',
        `too many requests without a valid key from this address; retry in ${retryAfterSeconds} s`,
        429,
        { retryAfterSeconds },
      );
    };
    if (!key) throw await refuse('missing feedback key: send Authorization: Bearer <feedback key>');
    let partner: FeedbackPartner | null = null;
    if (throttledMs === 0 && key.length <= 200) {
      const hash = hashApiKey(key);
      partner = await findByKeyHash(cache, hash, find);
    }
    if (!partner) throw await refuse('unknown or revoked feedback key');
    req.partner = partner;
    next();
  };
}

/** One event's answer as a batch result: what it would have been answered alone, with its status when refused. */
function batchResult(answer: FeedbackAnswer) {
  if ('body' in answer) return answer.body;
  const { message, errors } = errorBody(answer.error) as {
    message: string;
    errors: { field?: string; message: string }[];
  };
  return { status: 'rejected' as const, httpStatus: answer.httpStatus, message, errors };
}

/**
 * `POST /v1/feedback` (README "Feedback from partners"): one event, or a batch answered event by event in order.
 * Each event is recorded in a transaction of its own (packages/lifecycle's `recordFeedbackEvents`), postbacks
 * included; their jobs are enqueued after it, and the worker's sweeper sends any Redis did not take. Events
 * recorded at the same time — a batch's, and other requests' — share one PostgreSQL transaction and commit
 * (`SqlTransactionGroups`, one per process: ADR 0026 "Group commit"). SQL on node-postgres only, like the lead
 * API (ADR 0009).
 */
export function feedbackRouter(deps: AppDeps): Router {
  const { router, bind } = tableRouter('/v1/feedback', { partner: [partnerAuth(deps)] });
  const transactions = new SqlTransactionGroups(sqlPool(deps.db));
  bind(table.sendFeedback, async ({ body }, req) => {
    const partner = req.partner!;
    const now = new Date();
    const parsed = parseFeedback(body, now);
    const valid: FeedbackInput[] = [];
    for (const event of parsed.events) if (event.ok) valid.push(event.input);
    const results = await recordFeedbackEvents({ db: deps.db, transactions }, partner, valid);
    for (const result of results) await enqueuePostbacks(deps, req, result.postbacks);
    let next = 0;
    const answers: FeedbackAnswer[] = parsed.events.map((event) =>
      event.ok
        ? results[next++]!.answer
        : {
            httpStatus: 422,
            error: new AppError('invalid', 'the event is invalid', 422, { errors: event.errors }),
          },
    );
    if (parsed.batch) return { status: 207, body: { results: answers.map(batchResult) } };
    const [answer] = answers;
    if (!answer) throw new Error('feedback: no answer');
    if ('error' in answer) throw answer.error;
    return answer.httpStatus === 202 ? { status: 202, body: answer.body } : { status: 200, body: answer.body };
  });
  return router;
}
