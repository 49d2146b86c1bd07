/**
 * The route table's operator endpoints: dead letters, the lead search and a lead's whole story, the
 * statistics, the queues and the routing dry run (README "Operating it (runbook)").
 */
import { DateTime, LEAD_STATUSES, List, MAX_REPORT_DAYS, OneOf, Type, Uuid } from '@leadrouter/core';
import { DRY_RUN_DEFAULT_LEADS, DRY_RUN_MAX_LEADS, DryRunRequest, PersonalDataErasureRequest } from './bodies.js';
import {
  BulkDiscardResult,
  BulkRetryResult,
  DeadLetterConflict,
  DeadLetterPage,
  DEAD_LETTER_STATUSES,
  DeadLetterSelection,
  DryRun,
  LeadDetail,
  LeadSearchPage,
  PersonalDataErased,
  QueueDepths,
  RetryResult,
  Stats,
  Timeline,
  TIMELINE_STEPS,
} from './answers-operations.js';
import { EXAMPLE_AT, EXAMPLE_ID, EXAMPLE_PARTNER_ID, since } from './examples.js';
import { pageParameters } from './pagination.js';
import { route } from './table.js';

const unknownParams = 'Unknown query parameters are a `422` too (a misspelt filter would silently widen the list).';
const partnerRef = (description: string) => Type.Optional(Type.String({ minLength: 1, maxLength: 200, description }));
const deadLetterId = Type.Object({
  id: Uuid({ description: 'the dead letter’s (delivery’s) id; anything that is not a UUID is a `404`' }),
});
const deadLetterConflict = (what: string) => ({
  description: `Not ${what}: \`reason\` says why (it is no dead letter any more, or retrying could sell its lead twice, or its partner is paused or inactive).`,
  schema: DeadLetterConflict,
  error: true as const,
});

export const listDeadLetters = route({
  method: 'get',
  path: '/v1/admin/dead-letters',
  party: 'admin',
  operationId: 'listDeadLetters',
  tag: 'Dead letters',
  summary: 'List dead letters',
  description: `Deliveries that exhausted their attempts, oldest first (by when they were dead-lettered). A dead letter whose lead has since been sold to as many partners as its route allows (an exclusive sale, or a shared route’s \`maxDeliveries\` reached), through other partners, is \`superseded\` at that sale: it stays in the lead’s history but is listed only with \`status=superseded\`, is not counted by the dead-letter gauge, and cannot be retried. ${unknownParams}`,
  query: Type.Object({
    partner: partnerRef('only this partner’s (an id or a name)'),
    status: Type.Optional(
      List(DEAD_LETTER_STATUSES, {
        description:
          '`dead_lettered` (default: the dead letters an operator can act on), `superseded`, or both, comma-separated',
        example: 'superseded',
      }),
    ),
    ...pageParameters,
  }),
  answers: { 200: { description: 'A page of dead letters.', schema: DeadLetterPage }, 422: 'Invalid' },
});

export const retryDeadLetters = route({
  method: 'post',
  path: '/v1/admin/dead-letters/retry',
  party: 'admin',
  operationId: 'retryDeadLetters',
  tag: 'Dead letters',
  summary: 'Retry many dead letters',
  description:
    'Requeues every dead letter of one partner (`{"partner": "<id or name>"}`), or every dead letter (`{"all": true}`), that existed when the call started, each with a fresh `maxAttempts`. A dead letter is left as it is (and counted in `skipped`) when retrying could sell its lead twice, or its partner is paused or inactive.',
  // Read by @leadrouter/lifecycle (parseRetrySelection), with its own messages, as the CLI reads it.
  body: { schema: DeadLetterSelection, unchecked: true, example: { partner: 'acme' } },
  answers: {
    200: { description: 'How many were requeued, and how many skipped and why.', schema: BulkRetryResult },
  },
});

export const discardDeadLetters = route({
  method: 'post',
  path: '/v1/admin/dead-letters/discard',
  party: 'admin',
  operationId: 'discardDeadLetters',
  tag: 'Dead letters',
  summary: 'Discard many dead letters',
  description:
    'Discards every dead letter of one partner (`{"partner": "<id or name>"}`), or every dead letter (`{"all": true}`), that existed when the call started, as a single discard does: each stays in its lead’s history as `rejected` ("discarded by operator"), and a lead left with no dead letter is settled again by the worker (`unsold`, with its postback). Works in batches of 500, each committed on its own: after an interruption, the same call discards what is left.',
  body: { schema: DeadLetterSelection, unchecked: true, example: { partner: 'acme' } },
  answers: { 200: { description: 'How many were discarded.', schema: BulkDiscardResult } },
});

export const retryDeadLetter = route({
  method: 'post',
  path: '/v1/admin/dead-letters/{id}/retry',
  party: 'admin',
  operationId: 'retryDeadLetter',
  tag: 'Dead letters',
  summary: 'Retry a dead letter',
  description:
    'Requeues the delivery with a fresh `maxAttempts`; a lead that had settled goes back to `routing`. Refused (`409`, `reason: "sold"`) when the lead has since been sold to as many partners as its route allows — a superseded dead letter always is.',
  params: deadLetterId,
  resource: 'dead letter',
  answers: {
    200: { description: 'Requeued.', schema: RetryResult },
    404: 'NotFound',
    409: deadLetterConflict('retried'),
  },
});

export const discardDeadLetter = route({
  method: 'delete',
  path: '/v1/admin/dead-letters/{id}',
  party: 'admin',
  operationId: 'discardDeadLetter',
  tag: 'Dead letters',
  summary: 'Discard a dead letter',
  description:
    'Gives up on the delivery: it stays in the lead’s history as `rejected` ("discarded by operator") and leaves the dead letters. A lead that was `dead_lettered` only because of it becomes `unsold` (or `delivered`, if another partner bought it). To discard many, `POST /v1/admin/dead-letters/discard`.',
  params: deadLetterId,
  resource: 'dead letter',
  answers: { 204: { description: 'Discarded.' }, 404: 'NotFound', 409: deadLetterConflict('discarded') },
});

export const searchLeads = route({
  method: 'get',
  path: '/v1/admin/leads',
  party: 'admin',
  operationId: 'searchLeads',
  tag: 'Operations',
  summary: 'Search leads',
  description: `Leads, newest first, without personal data (get one by its id for the rest). All given filters must match. ${unknownParams}`,
  query: Type.Object({
    status: Type.Optional(
      List(LEAD_STATUSES, {
        description: 'one or more lead statuses, comma-separated',
        example: 'unsold,dead_lettered',
      }),
    ),
    source: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'the posting source: an id or a name' }),
    ),
    partner: partnerRef('leads offered to this partner (an id or a name), whatever the outcome'),
    phone: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 40,
        description:
          'the lead’s phone, with its country code, written any way (`+1 (415) 555-0100`, `14155550100`): normalised as leads are',
        example: '+1 415 555 0100',
      }),
    ),
    email: Type.Optional(Type.String({ minLength: 1, maxLength: 320, description: 'the lead’s email, in any case' })),
    since: Type.Optional(
      Type.String({
        format: 'date-time',
        maxLength: 40,
        description: 'created at or after: ISO 8601 date-time with a zone',
        example: EXAMPLE_AT,
      }),
    ),
    until: Type.Optional(
      Type.String({
        format: 'date-time',
        maxLength: 40,
        description: 'created before: ISO 8601 date-time with a zone, later than `since`',
      }),
    ),
    ...pageParameters,
  }),
  answers: { 200: { description: 'A page of leads.', schema: LeadSearchPage }, 422: 'Invalid' },
});

export const getLeadStory = route({
  method: 'get',
  path: '/v1/admin/leads/{id}',
  party: 'admin',
  operationId: 'getLeadStory',
  tag: 'Operations',
  summary: 'A lead’s whole story',
  description:
    'Everything about one lead, for an operator: its data (personal data included), its events, the routing decision with every partner’s outcome or skip reason, and each delivery with every attempt and the start of the partner’s answer.',
  params: Type.Object({ id: Uuid({ description: 'lead id (anything that is not a UUID is a `404`)' }) }),
  resource: 'lead',
  answers: { 200: { description: 'The lead.', schema: LeadDetail }, 404: 'NotFound' },
});

export const erasePersonalData = route({
  method: 'delete',
  path: '/v1/admin/leads/{id}/personal-data',
  party: 'admin',
  operationId: 'erasePersonalData',
  tag: 'Operations',
  summary: 'Erase a lead’s personal data (right to erasure)',
  description:
    'Erases the lead’s name, phone, email, custom fields and consent at once, with whatever of them its partners’ answers, errors, reasons and statuses repeated, and records who asked and why on its timeline (never the data). Its money, statuses, history, deliveries’ outcomes and ids stay, and its phone and email stay findable by the duplicate check, as keyed digests, while a source’s `duplicateWindowHours` reaches it. Asking again changes nothing (`alreadyErased`). A lead still being delivered (queued, routing, or a retried dead letter pending) is a `409`: ask again once it has settled. The body is optional. `PII_RETENTION_DAYS` erases older leads by itself.',
  params: Type.Object({ id: Uuid({ description: 'lead id (anything that is not a UUID is a `404`)' }) }),
  resource: 'lead',
  body: { schema: PersonalDataErasureRequest, optional: true, example: { reason: 'erasure request #4711' } },
  answers: {
    200: { description: 'Erased, now or before.', schema: PersonalDataErased },
    404: 'NotFound',
    409: { description: 'The lead is still being delivered: ask again once it has settled.', error: true },
  },
});

export const getStats = route({
  method: 'get',
  path: '/v1/admin/stats',
  party: 'admin',
  operationId: 'getStats',
  tag: 'Operations',
  summary: 'Counts of leads, rejections and deliveries, and money',
  description:
    'Leads received since a time, by current status and by source; the answers that did not accept a lead, by reason and by source — to see why a source’s leads fail; the deliveries created since then by partner (pending, accepted, rejected, dead-lettered, superseded, attempts); and the money recorded since then with the events behind it — sales, conversions, returns, reversals, revenue, cost, margin (the exact decimal number as a JSON string, in the answer’s `currency`) and the conversion, return and reversal rates — in total, by partner and by source.',
  query: Type.Object({
    since: Type.Optional(
      DateTime({
        maxLength: 40,
        description: `ISO 8601 date-time with a zone, at most ${MAX_REPORT_DAYS} days ago (as the reports); default: 24 hours ago`,
        example: EXAMPLE_AT,
      }),
    ),
  }),
  answers: {
    200: { description: 'The counts.', schema: Stats },
    422: {
      description: `\`since\` is not a date-time, or is more than ${MAX_REPORT_DAYS} days ago.`,
      error: true,
      example: {
        status: 'rejected',
        message: 'the request is invalid',
        errors: [
          {
            field: 'since',
            message: `must be at most ${MAX_REPORT_DAYS} days ago; for longer periods use GET /v1/admin/reports, a window at a time`,
          },
        ],
      },
    },
  },
});

export const getLeadTimeline = route({
  method: 'get',
  path: '/v1/admin/stats/timeline',
  party: 'admin',
  operationId: 'getLeadTimeline',
  tag: 'Operations',
  summary: 'Leads per minute or per hour',
  description:
    'Leads received in each step of a window, and how many of them are delivered by now, for charts. Steps are whole minutes or hours (UTC), with zeros where nothing arrived; at most 1,500 steps.',
  query: Type.Object({
    since: Type.Optional(since('an hour ago')),
    until: Type.Optional(
      DateTime({ maxLength: 40, description: 'ISO 8601 date-time with a zone, later than `since`; default: now' }),
    ),
    step: Type.Optional(OneOf(TIMELINE_STEPS, { default: 'minute' })),
  }),
  answers: { 200: { description: 'The points.', schema: Timeline }, 422: 'Invalid' },
});

export const getQueueDepths = route({
  method: 'get',
  path: '/v1/admin/queues',
  party: 'admin',
  operationId: 'getQueueDepths',
  tag: 'Operations',
  summary: 'Queue depths and dead letters',
  description:
    'Jobs in each queue by state (from Redis), and the dead-lettered deliveries that wait for an operator. `503` when Redis cannot be reached.',
  answers: { 200: { description: 'What is waiting.', schema: QueueDepths } },
});

export const dryRunRoutes = route({
  method: 'post',
  path: '/v1/admin/routes/dry-run',
  party: 'admin',
  operationId: 'dryRunRoutes',
  tag: 'Routes',
  summary: 'Replay draft routing rules over the last leads',
  description: `The last \`limit\` stored leads whose personal data is kept (default ${DRY_RUN_DEFAULT_LEADS}, at most ${DRY_RUN_MAX_LEADS}) routed by a draft — \`routes\`, a whole set, or \`route\`, one route (with the \`id\` of the stored route it replaces, or new) with the others as stored — beside the rules as stored and what really happened, per partner, with a sample of the leads the draft changes. A pure replay of the routing decision (route selection, partner filters, active and paused, schedules at the lead’s time): nothing is sent, written or counted. \`notReplayed\` says what it cannot check (caps, partners’ answers).`,
  // Read by @leadrouter/lifecycle (parseDryRun), which also checks the partners and patterns it names.
  body: {
    schema: DryRunRequest,
    unchecked: true,
    limit: '1mb',
    example: {
      route: {
        id: EXAMPLE_ID,
        name: 'US insurance',
        priority: 10,
        strategy: 'priority',
        filters: { geo: ['US'], fields: [{ field: 'fields.age', op: 'gte', value: 21 }] },
        partners: [{ partnerId: EXAMPLE_PARTNER_ID }],
      },
      limit: 1000,
    },
  },
  answers: { 200: { description: 'The replay.', schema: DryRun } },
});
