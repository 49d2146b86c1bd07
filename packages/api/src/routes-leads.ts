/**
 * The route table's lead API, for sources (README "Posting leads (for sources)"): post a lead, post a batch,
 * follow a lead. The ingest binds them with their own middleware (the rate limit before the body; ADR 0019).
 */
import { EXAMPLE_LEAD, IDEMPOTENCY_WINDOW_HOURS, Type, Uuid, type Static } from '@leadrouter/core';
import { EXAMPLE_AT, EXAMPLE_ID, EXAMPLE_PARTNER_ID, EXAMPLE_SOURCE_ID } from './examples.js';

const EXAMPLE_DELIVERY_ID = '6e7f8091-a2b3-4c4d-9e5f-60718293a4b5';
import {
  BATCH_BODY_LIMIT,
  BatchResults,
  LeadAccepted,
  LeadBatch,
  LeadBatchEnvelope,
  LeadDuplicate,
  LeadOutcome,
  LeadSourceView,
  LeadView,
  MAX_BATCH,
  MAX_IDEMPOTENCY_KEY,
  MAX_WAIT_SECONDS,
  PingAnswer,
} from './answers-leads.js';
import { Lead, LeadPing } from './bodies.js';
import { ref } from './components.js';
import { route } from './table.js';

const retryAfter = { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } };

/** `Prefer: wait=N` (RFC 7240), on a lead or a batch (ADR 0033). */
const prefer = (what: string) => ({
  name: 'Prefer',
  in: 'header',
  description: `\`wait=N\` (0–${MAX_WAIT_SECONDS} seconds): after recording ${what} exactly as without it, wait up to N seconds for the outcome and answer it when it is reached in time. Other preferences are ignored (RFC 7240); a \`wait\` that is not a whole number of seconds from 0 to ${MAX_WAIT_SECONDS} is a \`422\`, before anything is recorded.`,
  schema: { type: 'string' },
  example: 'wait=10',
});
const preferenceApplied = {
  'Preference-Applied': {
    description: '`wait=N` when the request waited (up to N seconds) for the outcome.',
    schema: { type: 'string' },
    example: 'wait=10',
  },
};

export const createLead = route({
  method: 'post',
  path: '/v1/leads',
  party: 'source',
  operationId: 'createLead',
  tag: 'Leads',
  summary: 'Post a lead',
  description: [
    'Validates the lead and records it durably in PostgreSQL before answering `202`: an accepted lead is routed even if Redis, the worker or a partner is down at that moment, and the answer never waits for Redis.',
    '',
    'Unknown top-level properties are rejected. The phone is stored in E.164, with `geo` as the default region.',
    'A `422` lists every problem, not only the first.',
    '',
    `Send an \`Idempotency-Key\` to retry safely: the same key from the same source within ${IDEMPOTENCY_WINDOW_HOURS} h answers the first lead's \`202\` again, with no second lead; the same key with a different lead is a \`422\`.`,
    '',
    `Send \`Prefer: wait=N\` (N ≤ ${MAX_WAIT_SECONDS}) to learn the lead's outcome in the same request: it is recorded first, exactly as without the header, then the answer is a \`200\` with its outcome if it is reached within N seconds, else the usual \`202\`.`,
    '',
    'With `pingId` (from `POST /v1/pings`) the lead is sold against that ping’s bids: the best bid first, then the next if that buyer refuses it (no buyer is pinged again). The ping’s values win over fields changed since (the lead’s timeline notes each difference). A ping posts one lead: a second post is a `409` naming the first; a post after `expiresAt` is a `410`, one against a ping without a bid a `422`, against another source’s ping (or an unknown one) a `404`.',
  ].join('\n'),
  headers: [
    {
      name: 'Idempotency-Key',
      in: 'header',
      description: `Makes a retry safe: the same key from the same source within ${IDEMPOTENCY_WINDOW_HOURS} h answers the first lead's \`202\` again, with no second lead. Reusing a key for a different lead is a \`422\`.`,
      schema: { type: 'string', minLength: 1, maxLength: MAX_IDEMPOTENCY_KEY },
      example: 'order-7f3a-2026-01-31',
    },
    prefer('the lead'),
  ],
  // The handler validates the lead with its Idempotency-Key (one 422 for both), and normalises it.
  body: { schema: Lead, unchecked: true, example: EXAMPLE_LEAD },
  answers: {
    200: {
      description:
        'Sent with `Prefer: wait=N`: the lead is stored, and its outcome was reached within N seconds — `delivered` (with your `payout` when you earn one on it), or `unsold`, `unmatched`, `dead_lettered` with the `reason` in your terms.',
      schema: LeadOutcome,
      headers: preferenceApplied,
      examples: {
        delivered: { summary: 'sold', value: { status: 'delivered', id: EXAMPLE_ID, payout: 12.5 } },
        unsold: { summary: 'every buyer refused it', value: { status: 'unsold', id: EXAMPLE_ID, reason: 'unsold' } },
      },
    },
    202: {
      description:
        'Accepted: stored, and queued for routing (with `Prefer: wait=N`: its outcome was not reached within N seconds; follow it with `GET /v1/leads/{id}` or your postback).',
      schema: LeadAccepted,
      headers: preferenceApplied,
      example: { status: 'accepted', id: EXAMPLE_ID },
    },
    401: 'Unauthorized',
    404: {
      description:
        'The `pingId` is none of your pings (unknown, another source’s, or expired long ago). Nothing was stored.',
      error: true,
    },
    409: {
      description:
        'A duplicate: the same phone or email reached leadrouter (from any source) within this source’s `duplicateWindowHours` (0, the default, turns the check off), or a lead was posted against this `pingId` already. Nothing was stored. The answer names the existing lead only when it is one of yours: another source’s lead id is never shown.',
      schema: LeadDuplicate,
      examples: {
        yours: { summary: 'a repeat of one of your leads', value: { status: 'duplicate', id: EXAMPLE_ID } },
        another: { summary: 'a lead another source sent', value: { status: 'duplicate' } },
      },
    },
    410: {
      description: 'Posted against a ping after its `expiresAt`: `reason` is `ping_expired`. Nothing was stored.',
      error: true,
      example: {
        status: 'rejected',
        reason: 'ping_expired',
        message: 'the ping expired: ping the lead again',
        errors: [{ field: '/pingId', message: 'the ping expired: ping the lead again' }],
      },
    },
    422: {
      description:
        'The lead (or its `Idempotency-Key`) is invalid; `errors` lists every problem. Also a post against a ping that got no bid (`reason`: `no_bid`).',
      error: true,
      example: {
        status: 'rejected',
        message: 'the request is invalid',
        errors: [
          { field: '/phone', message: 'is not a valid phone number for US' },
          { field: '/email', message: 'must match format "email"' },
        ],
      },
    },
    429: 'RateLimited',
    503: {
      description:
        'The lead could not be recorded durably right now (PostgreSQL is unreachable, or its connection failed); it was not accepted. Retry after `Retry-After` seconds, with the same `Idempotency-Key`: if it was stored after all (the connection failed after the commit), the retry answers its `202`, with no second lead.',
      error: true,
      headers: retryAfter,
    },
  },
});

export const createPing = route({
  method: 'post',
  path: '/v1/pings',
  party: 'source',
  operationId: 'createPing',
  tag: 'Leads',
  summary: 'Ping a lead: buyers bid on it before you post it',
  description: [
    'Ping/post: send the lead without its contact data (`name`, `phone`, `email` are refused); the buyers of the auction route it matches bid on it, and the answer comes within that route’s auction deadline plus 100 ms: `bid` — what you will be paid if you post it (your payout on the best bid) — with a `pingId` and its `expiresAt`, or `no_bid`. Then post the full lead with that `pingId` to `POST /v1/leads` before `expiresAt`.',
    '',
    'Nothing is stored as a lead by a ping. The rest of the lead is validated as a lead is; a `422` lists every problem. Pings count against your rate limit as leads do. A lead that matches no auction route, or whose buyers do not answer in time, is `no_bid`.',
  ].join('\n'),
  body: {
    schema: LeadPing,
    unchecked: true,
    example: { geo: 'US', source: 'Facebook', fields: { zip: '94107', age: 42 } },
  },
  answers: {
    200: {
      description:
        'The auction’s answer: `bid` (with what you will be paid) or `no_bid`. Never a buyer’s name or price.',
      schema: PingAnswer,
      examples: {
        bid: {
          summary: 'a bid',
          value: { status: 'bid', pingId: EXAMPLE_ID, bid: 12.5, expiresAt: '2026-01-31T12:05:00.000Z' },
        },
        noBid: { summary: 'no bid', value: { status: 'no_bid', pingId: EXAMPLE_ID } },
      },
    },
    401: 'Unauthorized',
    422: {
      description: 'The ping carries contact data, or is otherwise invalid; `errors` lists every problem.',
      error: true,
      example: {
        status: 'rejected',
        message: 'the request is invalid',
        errors: [
          {
            field: '/phone',
            message: 'is contact data: a ping carries none (send it in the post, POST /v1/leads with the pingId)',
          },
        ],
      },
    },
    429: 'RateLimited',
    503: {
      description:
        'The ping could not be handed to the auction right now (Redis is unreachable). Retry after `Retry-After` seconds.',
      error: true,
      headers: retryAfter,
    },
  },
});

export const createLeadBatch = route({
  method: 'post',
  path: '/v1/leads/batch',
  party: 'source',
  operationId: 'createLeadBatch',
  tag: 'Leads',
  summary: 'Post up to 500 leads at once',
  description: [
    `Up to ${MAX_BATCH} leads (body at most 8 MB). Each lead is validated and recorded on its own, exactly as by \`POST /v1/leads\`, and gets a result in \`results\`, in request order: \`accepted\`, \`duplicate\`, \`rejected\` (with its \`errors\`) or \`error\` (could not be recorded right now: send that lead again).`,
    '',
    `An \`Idempotency-Key\` (at most ${MAX_IDEMPOTENCY_KEY - 4} characters here) applies to each lead as \`<key>#<index>\` (\`#0\` for the first), so a retried batch replays each lead's answer.`,
    '',
    'The whole batch counts against the source’s rate limit (one per lead) before any lead is recorded.',
    '',
    `With \`Prefer: wait=N\` (N ≤ ${MAX_WAIT_SECONDS}) every accepted lead whose outcome is reached within N seconds (one wait for the whole batch) has its outcome as its result (\`delivered\`, \`unsold\`, \`unmatched\`, \`dead_lettered\`), the others stay \`accepted\`.`,
  ].join('\n'),
  headers: [
    {
      name: 'Idempotency-Key',
      in: 'header',
      description: `Applied to each lead as \`<key>#<index>\` (index from 0), with the same ${IDEMPOTENCY_WINDOW_HOURS} h replay as a single lead.`,
      schema: { type: 'string', minLength: 1, maxLength: MAX_IDEMPOTENCY_KEY - 4 },
      example: 'batch-2026-01-31-001',
    },
    prefer('every lead'),
  ],
  // The envelope is validated here; each lead on its own by the handler, with a result of its own.
  body: {
    schema: LeadBatch,
    envelope: LeadBatchEnvelope,
    limit: BATCH_BODY_LIMIT,
    example: { leads: [EXAMPLE_LEAD, { name: 'Jane', phone: 'not a number' }] },
  },
  answers: {
    207: {
      description: 'One result per lead, in request order.',
      schema: BatchResults,
      headers: preferenceApplied,
      example: {
        results: [
          { status: 'accepted', id: EXAMPLE_ID },
          {
            status: 'rejected',
            errors: [
              {
                field: '/phone',
                message: 'is not a valid phone number (use international format, e.g. +14155550100, or set geo)',
              },
            ],
          },
        ],
      },
    },
    401: 'Unauthorized',
    422: {
      description: `The body is not \`{"leads": [...]}\` with 1–${MAX_BATCH} leads, or the \`Idempotency-Key\` is too long. Nothing was recorded.`,
      error: true,
    },
    429: 'RateLimited',
  },
});

const exampleLead = (masked: boolean) => ({
  name: 'John',
  phone: masked ? '+1415*****00' : '+14155550100',
  email: masked ? 'j***@example.com' : 'john@example.com',
  geo: 'US',
  source: 'Facebook',
  fields: { zip: '94107', age: 42 },
});
const ROUTED_AT = '2026-01-31T12:00:00.120Z';
const DELIVERED_AT = '2026-01-31T12:00:00.170Z';

export const getLead = route({
  method: 'get',
  path: '/v1/leads/{id}',
  party: 'sourceOrAdmin',
  operationId: 'getLead',
  tag: 'Leads',
  summary: 'Get a lead, its status and history',
  description: [
    'Each party sees its own view of the lead:',
    '',
    '- **the owning source’s key** (`LeadSourceView`): the lead’s data with phone and email partly masked, its status and when each status was reached, for a `returned` lead the `reason` its buyer gave (the same as its `returned` postback’s), and its `payout`: what the source earns on it (its own ledger entries’ sum). Nothing of its routing or deliveries: no partner’s name, answer or price, no route.',
    '- **the admin token** (`LeadView`): everything, unmasked — which partner took it, the routing decision with every partner’s fate, every delivery attempt with the partner’s answer (and, on the accepted one, the partner’s own `reference` for the lead), and `money`: revenue, cost, margin and every ledger entry.',
    '',
    'Another source’s lead is a `404`, as is an id that is not a UUID.',
  ].join('\n'),
  params: Type.Object({ id: Uuid({ description: 'the lead id from the `202`' }) }),
  resource: 'lead',
  answers: {
    200: {
      description: 'The lead, as the caller may see it.',
      schema: Type.Unsafe<Static<typeof LeadSourceView> | Static<typeof LeadView>>({
        oneOf: [ref(LeadSourceView), ref(LeadView)],
      }),
      examples: {
        source: {
          summary: 'with the source’s key',
          value: {
            id: EXAMPLE_ID,
            status: 'delivered',
            createdAt: EXAMPLE_AT,
            sourceId: EXAMPLE_SOURCE_ID,
            personalDataErasedAt: null,
            lead: exampleLead(true),
            events: [
              { at: EXAMPLE_AT, status: 'queued' },
              { at: ROUTED_AT, status: 'routing' },
              { at: DELIVERED_AT, status: 'delivered' },
            ],
            payout: 10,
            currency: 'USD',
          },
        },
        admin: {
          summary: 'with the admin token',
          value: {
            id: EXAMPLE_ID,
            status: 'delivered',
            createdAt: EXAMPLE_AT,
            sourceId: EXAMPLE_SOURCE_ID,
            personalDataErasedAt: null,
            lead: exampleLead(false),
            events: [
              { at: EXAMPLE_AT, status: 'queued' },
              { at: ROUTED_AT, status: 'routing' },
              { at: DELIVERED_AT, status: 'delivered', partner: 'acme' },
            ],
            routing: {
              route: 'US leads',
              strategy: 'priority',
              partners: [{ partner: 'acme', decision: 'accepted', at: DELIVERED_AT }],
            },
            deliveries: [
              {
                partner: 'acme',
                attempt: 1,
                outcome: 'accepted',
                httpStatus: 200,
                durationMs: 41,
                error: null,
                reference: 'B-20931',
                at: '2026-01-31T12:00:00.165Z',
              },
            ],
            money: {
              revenue: 12.5,
              cost: 10,
              margin: 2.5,
              currency: 'USD',
              entries: [
                {
                  id: '1d2c3b4a-5e6f-4a0b-8c1d-2e3f4a5b6c7d',
                  leadId: EXAMPLE_ID,
                  party: 'partner',
                  partyId: EXAMPLE_PARTNER_ID,
                  kind: 'sale',
                  amount: 12.5,
                  deliveryId: EXAMPLE_DELIVERY_ID,
                  at: DELIVERED_AT,
                },
                {
                  id: '2e3d4c5b-6f7a-4b1c-9d2e-3f4a5b6c7d8e',
                  leadId: EXAMPLE_ID,
                  party: 'source',
                  partyId: EXAMPLE_SOURCE_ID,
                  kind: 'sale',
                  amount: 10,
                  deliveryId: EXAMPLE_DELIVERY_ID,
                  at: DELIVERED_AT,
                },
              ],
            },
          },
        },
      },
    },
    401: 'Unauthorized',
    404: 'NotFound',
    429: 'RateLimited',
  },
});
