import type { Logger } from '@leadrouter/config';
import type { AppError } from '@leadrouter/core';
import {
  INSERT_REJECTION,
  INSERT_REJECTION_COUNTS,
  runStatement,
  sqlPool,
  type Db,
  type RejectionErrors,
  type SqlPool,
} from '@leadrouter/db';
import type { IngestMetrics } from '@leadrouter/metrics';

export interface Rejection {
  sourceId: string | null;
  httpStatus: number;
  reason: string;
  errors?: RejectionErrors[];
  leadId?: string;
  /** A duplicate's geo and channel (the lead's `source` field), for the reports. */
  geo?: string | null;
  channel?: string | null;
}

/** How often the sums of rejections without a valid key are written. */
export const REJECTION_FLUSH_MS = 60_000;

interface Sum {
  httpStatus: number;
  reason: string;
  count: number;
  since: Date;
}

/**
 * Where the ingest writes the answers that did not accept a lead — never
 * with personal data: field pointers and messages only, no values. Never
 * delays or fails the answer: a failure to record is logged and dropped.
 * Typed statements on node-postgres (packages/db's ingest-rejections.ts), as all of the lead API (no Prisma
 * query on that path; ADR 0009).
 *
 * A source's rejections are one row each, written right after the answer.
 * Those of requests without a valid key (no source: `401`, and `429` once
 * the address is throttled) are what a flood of made-up keys sends, so they
 * are summed here by reason and status and written once a minute as one row
 * each with its `count` (ADR 0014): the table grows by a few rows a minute
 * per ingest process, whatever a flood sends, and the counts stay exact.
 * `close()` writes what is left.
 */
export class RejectionLog {
  private sums = new Map<string, Sum>();
  private readonly timer: NodeJS.Timeout;
  private readonly pool: SqlPool;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    db: Db,
    private readonly log: Logger,
    opts: { flushIntervalMs?: number } = {},
  ) {
    this.pool = sqlPool(db);
    this.timer = setInterval(() => void this.flush(), opts.flushIntervalMs ?? REJECTION_FLUSH_MS);
    this.timer.unref();
  }

  record(r: Rejection): void {
    if (r.sourceId === null) return this.count(r.httpStatus, r.reason.slice(0, 50));
    runStatement(this.pool, INSERT_REJECTION, {
      sourceId: r.sourceId,
      httpStatus: r.httpStatus,
      reason: r.reason.slice(0, 50),
      errors: r.errors ? r.errors.slice(0, 50) : null,
      leadId: r.leadId ?? null,
      geo: r.geo ?? null,
      channel: r.channel ?? null,
    }).catch((err: unknown) => {
      this.log.warn({ err: { message: (err as Error).message }, rejection: r.reason }, 'could not record a rejection');
    });
  }

  private count(httpStatus: number, reason: string, count = 1, since = new Date()): void {
    const key = `${httpStatus} ${reason}`;
    const sum = this.sums.get(key);
    if (sum) {
      sum.count += count;
      if (since < sum.since) sum.since = since;
    } else this.sums.set(key, { httpStatus, reason, count, since });
  }

  /** Writes the sums so far, one row per reason; when PostgreSQL fails they are kept for the next try. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const sums = [...this.sums.values()];
      if (sums.length === 0) return;
      this.sums = new Map();
      try {
        await runStatement(this.pool, INSERT_REJECTION_COUNTS, {
          httpStatuses: sums.map((s) => s.httpStatus),
          reasons: sums.map((s) => s.reason),
          counts: sums.map((s) => s.count),
          since: sums.map((s) => s.since),
        });
      } catch (err) {
        for (const s of sums) this.count(s.httpStatus, s.reason, s.count, s.since);
        this.log.warn(
          { err: { message: (err as Error).message } },
          'could not record the counts of requests without a valid key; will try again',
        );
      }
    });
    return this.flushing;
  }

  /** Stops the timer and writes what is left (at shutdown, before the pool closes). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

/** Records an answer that did not accept a lead (see RejectionLog). */
export function recordRejection(deps: { rejections: RejectionLog }, r: Rejection): void {
  deps.rejections.record(r);
}

export function rejectionOf(err: AppError, sourceId: string | null): Rejection {
  return {
    sourceId,
    httpStatus: err.httpStatus,
    reason: err.code,
    ...(err.details.errors ? { errors: err.details.errors } : {}),
  };
}

export type LeadAnswer = 'accepted' | 'duplicate' | 'rejected' | 'rate_limited' | 'unauthorized' | 'error';

/** Counts one answer to a lead in the metrics, by source name (`unknown` when the key was not). */
export function countLead(
  deps: { metrics?: IngestMetrics },
  source: { name: string } | undefined,
  answer: LeadAnswer,
): void {
  deps.metrics?.leadsReceived.inc({ source: source?.name ?? 'unknown', answer });
}

export function answerOf(err: AppError): LeadAnswer {
  if (err.code === 'rate_limited' || err.code === 'unauthorized') return err.code;
  // A throttled address sent no valid key: to the lead counts, it is one more unauthorized post.
  if (err.code === 'auth_throttled') return 'unauthorized';
  return err.httpStatus >= 500 ? 'error' : 'rejected';
}
