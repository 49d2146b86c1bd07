import { MAX_IDEMPOTENCY_KEY } from '@leadrouter/api';
import { invalid, loadPhoneNumbers, validateLead, type FieldError, type NormalisedLead } from '@leadrouter/core';
import type { AcceptOutcome } from '@leadrouter/lifecycle';

// Every lead's phone number is parsed: libphonenumber is loaded with this module, at start, rather than by the
// first lead (core loads it on first use, for the processes that never parse one: the worker).
loadPhoneNumbers();

// Accepting a lead is packages/lifecycle's use case (`LeadRecorder`: the durable write and the group commit);
// this file holds what the HTTP side adds to it: the request's checks and the answer the source gets.
export { LeadRecorder, type AcceptOutcome } from '@leadrouter/lifecycle';

/** The answer a source gets for a lead. */
export type AcceptAnswer = { status: 'accepted'; id: string } | { status: 'duplicate'; id?: string };

/**
 * What the source is told: a duplicate of its own lead names that lead; a
 * duplicate of another source's lead does not (README "What each party sees":
 * ids are only shown to their own source — an id there would tell any source which phones and
 * emails others have sent).
 */
export function acceptAnswer(outcome: AcceptOutcome): AcceptAnswer {
  if (outcome.status === 'accepted') return outcome;
  return outcome.sameSource ? { status: 'duplicate', id: outcome.existingId } : { status: 'duplicate' };
}

/** Validates one lead, including its Idempotency-Key; throws a 422 listing every problem. */
export function checkLead(body: unknown, idempotencyKey: string | undefined): NormalisedLead {
  const errors: FieldError[] = [];
  if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY)) {
    errors.push({ field: 'Idempotency-Key', message: `header must be 1–${MAX_IDEMPOTENCY_KEY} characters` });
  }
  const v = validateLead(body);
  if (!v.ok) errors.push(...v.errors);
  if (!v.ok || errors.length > 0) throw invalid(errors);
  return v.lead;
}
