import type { AppError } from '@leadrouter/core';
import { sqlPool } from '@leadrouter/db';
import type { IngestDeps } from '../deps.js';

export interface Rejection {
  sourceId: string | null;
  httpStatus: number;
  reason: string;
  errors?: { field?: string; message: string }[];
  leadId?: string;
}

const INSERT_REJECTION = `INSERT INTO ingest_rejections (source_id, http_status, reason, errors, lead_id)
  VALUES ($1, $2, $3, $4::jsonb, $5)`;

/**
 * Records an answer that did not accept a lead — never with personal data:
 * field pointers and messages only, no values. Never delays or fails the
 * answer: a failure to record is logged and dropped. SQL on node-postgres,
 * as all of the lead API (no Prisma query on that path; ADR 0009).
 */
export function recordRejection(deps: IngestDeps, r: Rejection): void {
  sqlPool(deps.db)
    .query(INSERT_REJECTION, [
      r.sourceId,
      r.httpStatus,
      r.reason.slice(0, 50),
      r.errors ? JSON.stringify(r.errors.slice(0, 50)) : null,
      r.leadId ?? null,
    ])
    .catch((err: unknown) => {
      deps.log.warn({ err: { message: (err as Error).message }, rejection: r.reason }, 'could not record a rejection');
    });
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
export function countLead(deps: IngestDeps, source: { name: string } | undefined, answer: LeadAnswer): void {
  deps.metrics?.leadsReceived.inc({ source: source?.name ?? 'unknown', answer });
}

export function answerOf(err: AppError): LeadAnswer {
  if (err.code === 'rate_limited' || err.code === 'unauthorized') return err.code;
  return err.httpStatus >= 500 ? 'error' : 'rejected';
}
