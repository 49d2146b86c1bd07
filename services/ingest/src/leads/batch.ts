import { AppError, invalid, type NormalisedLead } from '@leadrouter/core';
import type { AppDeps } from '../deps.js';
import type { PostingSource } from '../http/auth.js';
import { acceptAnswer, checkLead, type AcceptAnswer, type AcceptOutcome, type LeadRecorder } from './accept.js';
import { mapConcurrent } from './concurrency.js';
import { countLead, recordRejection, rejectionOf } from './rejections.js';

export type BatchResult =
  | AcceptAnswer
  | { status: 'rejected'; errors: { field?: string; message: string }[] }
  | { status: 'error'; errors: { message: string }[] };

/** Groups of one batch recorded at once: enough to overlap round trips, few enough to leave connections for others. */
const BATCH_CONCURRENCY = 4;

/**
 * Accepts each lead of a batch exactly as a single post, answering in
 * request order. Leads that share a phone or email are recorded one after
 * the other in request order (so the first of them is the one accepted and
 * the later ones its duplicates); unrelated leads go four at a time.
 */
export async function acceptBatch(
  deps: AppDeps,
  recorder: LeadRecorder,
  source: PostingSource,
  bodies: unknown[],
  idempotencyKey: string | undefined,
): Promise<BatchResult[]> {
  const results = new Array<AcceptOutcome | Exclude<BatchResult, AcceptAnswer>>(bodies.length);
  const valid: { index: number; lead: NormalisedLead; key?: string }[] = [];
  bodies.forEach((body, index) => {
    // One key per lead of the batch, so a retried batch replays each lead's answer.
    const key = idempotencyKey === undefined ? undefined : `${idempotencyKey}#${index}`;
    try {
      const lead = checkLead(body, key);
      // A post against a ping is answered on its own (410, 404, 409 for the ping): not in a batch.
      if (lead.pingId !== undefined)
        throw invalid([{ field: '/pingId', message: 'post a lead with a pingId alone, to POST /v1/leads' }]);
      valid.push({ index, lead, ...(key ? { key } : {}) });
    } catch (err) {
      results[index] = failed(deps, source, err);
    }
  });

  await mapConcurrent(groupByContact(valid), BATCH_CONCURRENCY, async (group) => {
    for (const { index, lead, key } of group) {
      try {
        results[index] = await recorder.accept(source, lead, key);
      } catch (err) {
        results[index] = failed(deps, source, err);
      }
    }
  });
  const leads = new Map(valid.map((v) => [v.index, v.lead]));
  return results.map((r, index) => {
    countLead(deps, source, r.status);
    if (r.status === 'duplicate') {
      const lead = leads.get(index);
      recordRejection(deps, {
        sourceId: source.id,
        httpStatus: 409,
        reason: 'duplicate',
        leadId: r.existingId,
        geo: lead?.geo ?? null,
        channel: lead?.source ?? null,
      });
    }
    return r.status === 'accepted' || r.status === 'duplicate' ? acceptAnswer(r) : r;
  });
}

function failed(deps: AppDeps, source: PostingSource, err: unknown): Exclude<BatchResult, AcceptAnswer> {
  if (!(err instanceof AppError)) throw err;
  recordRejection(deps, rejectionOf(err, source.id));
  return err.httpStatus >= 500
    ? { status: 'error', errors: [{ message: err.message }] }
    : { status: 'rejected', errors: err.details.errors ?? [{ message: err.message }] };
}

/** Leads connected by a shared phone or email, each group in request order. */
export function groupByContact<T extends { index: number; lead: Pick<NormalisedLead, 'phone' | 'email'> }>(
  items: T[],
): T[][] {
  const parent = items.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  const owner = new Map<string, number>();
  items.forEach((item, i) => {
    for (const contact of [`p:${item.lead.phone}`, item.lead.email ? `e:${item.lead.email}` : null]) {
      if (!contact) continue;
      const first = owner.get(contact);
      if (first === undefined) owner.set(contact, i);
      else parent[find(i)] = find(first);
    }
  });
  const groups = new Map<number, T[]>();
  items.forEach((item, i) => {
    const root = find(i);
    groups.set(root, [...(groups.get(root) ?? []), item]);
  });
  return [...groups.values()];
}
