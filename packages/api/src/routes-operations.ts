/**
 * The route table's operator endpoints: dead letters, the lead search and a lead's whole story (README
 * "Operating it (runbook)").
 */
import { Type, Uuid } from '@leadrouter/core';
import {
  BulkDiscardResult,
  BulkRetryResult,
  DeadLetterConflict,
  DeadLetterPage,
  DeadLetterSelection,
  LeadDetail,
  LeadSearchPage,
  RetryResult,
} from './answers-operations.js';
import { EXAMPLE_AT } from './examples.js';
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
      Type.String({
        maxLength: 100,
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
  // Read by @leadrouter/operations (parseRetrySelection), with its own messages, as the CLI reads it.
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
      Type.String({
        maxLength: 500,
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
        description: 'created at or after: ISO 8601 date-time with a zone',
        example: EXAMPLE_AT,
      }),
    ),
    until: Type.Optional(
      Type.String({
        format: 'date-time',
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
