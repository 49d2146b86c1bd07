// A partner's feedback body as the ingest takes it (README "Feedback from partners", ADR 0026): its events checked
// against the API's schema (`FeedbackEvent`, @leadrouter/api) and what the schema cannot say. Apart from
// feedback.ts, which records the events, so that the worker's status pulls, which record events too, do not load
// the API's schemas (typebox; docs/performance.md, "typebox out of the worker").
import { FeedbackEvent, MAX_FEEDBACK_BATCH } from '@leadrouter/api';
import { compile, invalid, toFieldErrors, type FeedbackEventKind, type FieldError } from '@leadrouter/core';
import { parseAmount, type Amount } from '@leadrouter/money';
import type { FeedbackInput } from './feedback.js';

const validateEvent = compile<Record<string, unknown>>(FeedbackEvent);

/** How far in the future a partner's `at` may be (clocks differ). */
const CLOCK_SKEW_MS = 5 * 60_000;

export type FeedbackParse = { ok: true; input: FeedbackInput } | { ok: false; errors: FieldError[] };

/**
 * One event of a feedback body (`pointer`: where it is in the body), with every problem: the schema's, and
 * what it cannot say — exactly one of `leadId` and `reference`, a `status` for (and only for) status events,
 * an amount with at most 4 decimal places, not negative, only where a conversion can be, a time not in the
 * future.
 */
export function parseFeedbackEvent(raw: unknown, now: Date, pointer = ''): FeedbackParse {
  const errors: FieldError[] = validateEvent(raw)
    ? []
    : toFieldErrors(validateEvent.errors).map((e) => ({
        ...e,
        field: `${pointer}${e.field === '/' ? '' : e.field}` || '/',
      }));
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, errors };
  const body = raw as Record<string, unknown>;
  const at = (field: string, message: string) => errors.push({ field: `${pointer}/${field}`, message });
  if (body.leadId === undefined && body.reference === undefined)
    at('leadId', 'is required: name the lead by `leadId` or by `reference`');
  else if (body.leadId !== undefined && body.reference !== undefined)
    at('reference', 'cannot be given with `leadId`: name the lead by one of them');
  const event = body.event;
  if (event === 'status' && body.status === undefined) at('status', 'is required for a status event');
  if (event !== 'status' && typeof event === 'string' && body.status !== undefined)
    at('status', 'is only for `status` events');
  let amountValue: Amount | null = null;
  if (body.amount !== undefined && (typeof body.amount === 'number' || typeof body.amount === 'string')) {
    const parsed = parseAmount(body.amount);
    if (!parsed.ok) at('amount', parsed.message);
    else amountValue = parsed.amount;
    if (event === 'returned' || event === 'reversed')
      at('amount', 'is only for conversions (`converted`, or a `status` meaning converted)');
  }
  let when: Date | null = null;
  if (typeof body.at === 'string') {
    const ms = Date.parse(body.at);
    if (!Number.isNaN(ms)) {
      when = new Date(ms);
      if (ms > now.getTime() + CLOCK_SKEW_MS) at('at', 'is in the future');
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    ok: true,
    input: {
      lead:
        typeof body.leadId === 'string'
          ? { leadId: body.leadId.toLowerCase() }
          : { reference: body.reference as string },
      event: event as FeedbackEventKind,
      status: text(body.status),
      amount: amountValue,
      reason: text(body.reason),
      eventId: text(body.eventId),
      at: when,
    },
  };
}

/** A feedback body: one event, or `{"events": […]}` (each parsed on its own); a batch's own problems throw a 422. */
export function parseFeedback(body: unknown, now: Date): { batch: boolean; events: FeedbackParse[] } {
  if (typeof body === 'object' && body !== null && !Array.isArray(body) && 'events' in body) {
    const events = body.events;
    const extra = Object.keys(body).filter((k) => k !== 'events');
    const errors: FieldError[] = extra.map((k) => ({ field: `/${k}`, message: 'is not an allowed property' }));
    if (!Array.isArray(events) || events.length === 0 || events.length > MAX_FEEDBACK_BATCH)
      errors.push({ field: '/events', message: `must be an array of 1 to ${MAX_FEEDBACK_BATCH} events` });
    if (errors.length > 0) throw invalid(errors);
    return { batch: true, events: (events as unknown[]).map((e, i) => parseFeedbackEvent(e, now, `/events/${i}`)) };
  }
  return { batch: false, events: [parseFeedbackEvent(body, now)] };
}
