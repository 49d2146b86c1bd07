import { DryRunRequest } from '@leadrouter/api';
import { closed, fromCore, type JsonSchema } from './schemas.js';

/**
 * Schemas of the endpoints the operator console added (ADR 0018): the
 * session, leads per minute, queue depths, a lead's whole story, a partner's
 * health and the routing dry run.
 */
const dateTime = { type: 'string', format: 'date-time' } as const;
const uuid = { type: 'string', format: 'uuid' } as const;
const count = { type: 'integer', minimum: 0 } as const;
const nullableString = { type: ['string', 'null'] } as const;
const replay = (withSkipped: boolean) =>
  closed(
    {
      routeId: { type: ['string', 'null'], description: 'the route that would decide (null: none matches)' },
      routeName: nullableString,
      offered: { type: 'array', items: uuid, description: 'partner ids the lead would be offered to first, in order' },
      ...(withSkipped
        ? {
            skipped: {
              type: 'array',
              items: closed({ partnerId: uuid, reason: { type: 'string' } }),
              description: 'candidates that would not be offered, and why',
            },
          }
        : {}),
      reason: { type: 'string', description: 'why nothing would be offered' },
    },
    { optional: ['reason'] },
  );

export function consoleSchemas(): Record<string, JsonSchema> {
  return {
    SignIn: closed({ token: { type: 'string', minLength: 1, maxLength: 1000, description: 'the admin token' } }),
    Session: closed({
      csrfToken: {
        type: 'string',
        description: 'send it as `X-CSRF-Token` with every request that changes something and carries the cookie',
      },
      expiresAt: { ...dateTime, description: 'when the session ends (12 h after sign-in)' },
    }),
    Timeline: closed({
      since: dateTime,
      until: dateTime,
      step: { enum: ['minute', 'hour'] },
      points: {
        type: 'array',
        description: 'one per step from `since` (rounded down) to `until`, zeros included',
        items: closed({
          at: { ...dateTime, description: 'the start of the step' },
          received: { ...count, description: 'leads received in the step' },
          delivered: { ...count, description: 'of those, delivered by now' },
        }),
      },
    }),
    QueueDepths: closed({
      queues: {
        type: 'array',
        items: closed({ name: { type: 'string' }, waiting: count, active: count, delayed: count, failed: count }),
      },
      deadLetters: { ...count, description: 'dead-lettered deliveries not yet retried or discarded' },
    }),
    DryRunRequest: fromCore(DryRunRequest),
    DryRun: closed({
      leads: { ...count, description: 'stored leads replayed: the most recent, up to `limit`' },
      from: { ...nullableString, format: 'date-time' },
      to: { ...nullableString, format: 'date-time' },
      notReplayed: { type: 'array', items: { type: 'string' }, description: 'what a replay cannot check' },
      partners: {
        type: 'array',
        items: closed({
          partnerId: uuid,
          name: { type: 'string' },
          draft: { ...count, description: 'leads the draft would offer it first' },
          current: { ...count, description: 'leads the rules as stored would offer it first, replayed the same way' },
          actual: { ...count, description: 'leads it was really offered (any outcome, waterfall included)' },
        }),
      },
      unrouted: closed({ draft: count, current: count, actual: count }),
      changed: { ...count, description: 'leads whose first offers differ between the draft and the stored rules' },
      sample: {
        type: 'array',
        description: 'the most recent changed leads',
        items: closed({
          leadId: uuid,
          createdAt: dateTime,
          draft: replay(true),
          current: replay(false),
          actual: closed({ offered: { type: 'array', items: uuid } }),
        }),
      },
    }),
  };
}
