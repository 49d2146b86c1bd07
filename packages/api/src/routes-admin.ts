/**
 * The route table's admin CRUD: sources, partners and routes (README "Setting up sources, partners and routes"). Each entry is an
 * operation: the ingest binds a handler to it, the OpenAPI document describes it.
 */
import { EXAMPLE_LEAD, Type, Uuid } from '@leadrouter/core';
import { EXAMPLE_PARTNER_ID, since } from './examples.js';
import {
  Partner,
  PartnerCreated,
  PartnerHealth,
  PartnerPage,
  PartnerResumed,
  PartnerTestReport,
  Route,
  RoutePage,
  Source,
  SourceCreated,
  SourceKeyRotated,
  SourcePage,
} from './answers.js';
import {
  PartnerCreate,
  PartnerPause,
  PartnerTestRequest,
  PartnerUpdate,
  RouteCreate,
  RouteUpdate,
  SourceCreate,
  SourceUpdate,
} from './bodies.js';
import { PageQuery } from './pagination.js';
import { route } from './table.js';

/** The `{id}` of a path, for a resource. */
const idOf = (what: string) =>
  Type.Object({ id: Uuid({ description: `${what} id (anything that is not a UUID is a \`404\`)` }) });

const listDescription = (many: string) =>
  `Pages of ${many} in the order they were created: pass the answer's \`nextCursor\` as \`cursor\` for the next page.`;
const updateDescription =
  'Changes the properties given (at least one); the others keep their values. Takes effect for the next lead.';

export const listSources = route({
  method: 'get',
  path: '/v1/admin/sources',
  party: 'admin',
  operationId: 'listSources',
  tag: 'Sources',
  summary: 'List sources',
  description: listDescription('sources'),
  query: PageQuery,
  answers: { 200: { description: 'A page of sources.', schema: SourcePage }, 422: 'Invalid' },
});

export const createSource = route({
  method: 'post',
  path: '/v1/admin/sources',
  party: 'admin',
  operationId: 'createSource',
  tag: 'Sources',
  summary: 'Create a source',
  description:
    'An affiliate that posts leads. The answer carries its `apiKey` and `postbackSecret`: they are shown only this once (the key is stored as a hash).',
  body: {
    schema: SourceCreate,
    example: {
      name: 'Acme Affiliates',
      postbackUrl: 'https://acme.example/postback',
      rateLimitPerMinute: 600,
      duplicateWindowHours: 24,
    },
  },
  answers: { 201: { description: 'The new source.', schema: SourceCreated }, 409: 'NameTaken' },
});

export const getSource = route({
  method: 'get',
  path: '/v1/admin/sources/{id}',
  party: 'admin',
  operationId: 'getSource',
  tag: 'Sources',
  summary: 'Get a source',
  params: idOf('source'),
  resource: 'source',
  answers: { 200: { description: 'The source.', schema: Source }, 404: 'NotFound' },
});

export const updateSource = route({
  method: 'patch',
  path: '/v1/admin/sources/{id}',
  party: 'admin',
  operationId: 'updateSource',
  tag: 'Sources',
  summary: 'Update a source',
  description: updateDescription,
  params: idOf('source'),
  resource: 'source',
  body: { schema: SourceUpdate },
  answers: { 200: { description: 'The updated source.', schema: Source }, 404: 'NotFound', 409: 'NameTaken' },
});

export const deleteSource = route({
  method: 'delete',
  path: '/v1/admin/sources/{id}',
  party: 'admin',
  operationId: 'deleteSource',
  tag: 'Sources',
  summary: 'Delete a source',
  description:
    'A source without leads is removed; a source with leads is deactivated instead (its key stops working, its leads keep their history).',
  params: idOf('source'),
  resource: 'source',
  answers: {
    204: { description: 'Deleted, or deactivated (see above).' },
    404: 'NotFound',
    409: { description: 'The source gained history while being deleted; deactivate it instead.', error: true },
  },
});

export const rotateSourceKey = route({
  method: 'post',
  path: '/v1/admin/sources/{id}/rotate-key',
  party: 'admin',
  operationId: 'rotateSourceKey',
  tag: 'Sources',
  summary: 'Issue a new API key',
  description: 'The previous key stops working at once. The new key is shown only in this answer.',
  params: idOf('source'),
  resource: 'source',
  answers: { 200: { description: 'The source, with its new key.', schema: SourceKeyRotated }, 404: 'NotFound' },
});

export const listPartners = route({
  method: 'get',
  path: '/v1/admin/partners',
  party: 'admin',
  operationId: 'listPartners',
  tag: 'Partners',
  summary: 'List partners',
  description: listDescription('partners'),
  query: PageQuery,
  answers: { 200: { description: 'A page of partners.', schema: PartnerPage }, 422: 'Invalid' },
});

export const createPartner = route({
  method: 'post',
  path: '/v1/admin/partners',
  party: 'admin',
  operationId: 'createPartner',
  tag: 'Partners',
  summary: 'Create a partner',
  description:
    'A buyer: an HTTP API that receives leads. Its `secret`, when given, signs deliveries (Standard Webhooks) and is never shown again. The answer carries its `feedbackKey` (for `POST /v1/feedback`): shown only this once.',
  body: {
    schema: PartnerCreate,
    example: {
      name: 'acme',
      url: 'https://buyer.example/leads',
      fieldMap: { first_name: 'name', phone_number: 'phone', zip: 'fields.zip' },
      caps: { daily: 500, monthlyBudget: 5000 },
      schedule: { timezone: 'America/New_York', days: { mon: ['09:00-17:00'], tue: ['09:00-17:00'] } },
      filters: { geo: ['US'] },
      price: 12.5,
      conversionPrice: 40,
      returns: { windowDays: 14, autoApprove: false },
      statusMap: { Deposit: 'converted', 'Invalid number': 'returned', Chargeback: 'reversed' },
    },
  },
  answers: {
    201: { description: 'The new partner, with its feedback key.', schema: PartnerCreated },
    409: 'NameTaken',
  },
});

export const getPartner = route({
  method: 'get',
  path: '/v1/admin/partners/{id}',
  party: 'admin',
  operationId: 'getPartner',
  tag: 'Partners',
  summary: 'Get a partner',
  params: idOf('partner'),
  resource: 'partner',
  answers: { 200: { description: 'The partner.', schema: Partner }, 404: 'NotFound' },
});

export const updatePartner = route({
  method: 'patch',
  path: '/v1/admin/partners/{id}',
  party: 'admin',
  operationId: 'updatePartner',
  tag: 'Partners',
  summary: 'Update a partner',
  description: `${updateDescription} \`"active": false\` stops all sending to the partner: new leads skip it and its pending retries wait, as for a paused partner, their leads staying \`routing\`; \`"active": true\` requeues them at once (unless the partner is paused: then on resume). \`headers\` that set framing, signing or leadrouter’s own headers, or hold control characters, are a \`422\`.`,
  params: idOf('partner'),
  resource: 'partner',
  body: { schema: PartnerUpdate },
  answers: { 200: { description: 'The updated partner.', schema: Partner }, 404: 'NotFound', 409: 'NameTaken' },
});

export const deletePartner = route({
  method: 'delete',
  path: '/v1/admin/partners/{id}',
  party: 'admin',
  operationId: 'deletePartner',
  tag: 'Partners',
  summary: 'Delete a partner',
  description:
    'A partner without deliveries is removed (and leaves the routes that named it); a partner with deliveries is deactivated instead, keeping its history: it gets nothing more, and its pending retries wait (parked) unless it is reactivated with `"active": true`.',
  params: idOf('partner'),
  resource: 'partner',
  answers: {
    204: { description: 'Deleted, or deactivated (see above).' },
    404: 'NotFound',
    409: { description: 'The partner gained history while being deleted; deactivate it instead.', error: true },
  },
});

export const resumePartner = route({
  method: 'post',
  path: '/v1/admin/partners/{id}/resume',
  party: 'admin',
  operationId: 'resumePartner',
  tag: 'Partners',
  summary: 'Resume a paused partner',
  description:
    'Clears a pause (by the circuit breaker after `pauseAfterFailures` consecutive failed attempts, or by a 410 Gone) and its failure count; new leads go to the partner again and the retries that waited while it was paused are requeued at once — unless the partner is inactive, when they keep waiting for `"active": true`.',
  params: idOf('partner'),
  resource: 'partner',
  answers: { 200: { description: 'The partner, with `requeued`.', schema: PartnerResumed }, 404: 'NotFound' },
});

export const listRoutes = route({
  method: 'get',
  path: '/v1/admin/routes',
  party: 'admin',
  operationId: 'listRoutes',
  tag: 'Routes',
  summary: 'List routes',
  description: listDescription('routes'),
  query: PageQuery,
  answers: { 200: { description: 'A page of routes.', schema: RoutePage }, 422: 'Invalid' },
});

export const createRoute = route({
  method: 'post',
  path: '/v1/admin/routes',
  party: 'admin',
  operationId: 'createRoute',
  tag: 'Routes',
  summary: 'Create a route',
  description:
    'A routing rule. The active route with the highest `priority` whose filters match a lead decides its candidate partners; `strategy` orders them and `maxDeliveries` says how many may buy it. Every `partnerId` must exist (`422` otherwise). Defaults: `priority` 0, `strategy` `priority`, `maxDeliveries` 1.',
  body: {
    schema: RouteCreate,
    example: {
      name: 'US leads',
      priority: 10,
      filters: { geo: ['US'], fields: [{ field: 'fields.age', op: 'gte', value: 18 }] },
      partners: [{ partnerId: EXAMPLE_PARTNER_ID }],
      strategy: 'priority',
      maxDeliveries: 1,
    },
  },
  answers: { 201: { description: 'The new route.', schema: Route }, 409: 'NameTaken' },
});

export const getRoute = route({
  method: 'get',
  path: '/v1/admin/routes/{id}',
  party: 'admin',
  operationId: 'getRoute',
  tag: 'Routes',
  summary: 'Get a route',
  params: idOf('route'),
  resource: 'route',
  answers: { 200: { description: 'The route.', schema: Route }, 404: 'NotFound' },
});

export const updateRoute = route({
  method: 'patch',
  path: '/v1/admin/routes/{id}',
  party: 'admin',
  operationId: 'updateRoute',
  tag: 'Routes',
  summary: 'Update a route',
  description: updateDescription,
  params: idOf('route'),
  resource: 'route',
  body: { schema: RouteUpdate },
  answers: { 200: { description: 'The updated route.', schema: Route }, 404: 'NotFound', 409: 'NameTaken' },
});

export const deleteRoute = route({
  method: 'delete',
  path: '/v1/admin/routes/{id}',
  party: 'admin',
  operationId: 'deleteRoute',
  tag: 'Routes',
  summary: 'Delete a route',
  description: 'Removes the route; leads already routed keep their history.',
  params: idOf('route'),
  resource: 'route',
  answers: { 204: { description: 'Deleted.' }, 404: 'NotFound' },
});

export const testPartner = route({
  method: 'post',
  path: '/v1/admin/partners/{id}/test',
  party: 'admin',
  operationId: 'testPartner',
  tag: 'Partners',
  summary: 'Send a test lead to a partner',
  description:
    'Sends one lead to the partner exactly as a delivery would be sent (field map, headers, signing, timeout), plus `X-Leadrouter-Test: true`, and reports what happened. Nothing is recorded: no lead, no delivery, no cap slot. Without a body (or without `lead`), a built-in test lead is sent. Header values that look like credentials are hidden in the report.',
  params: idOf('partner'),
  resource: 'partner',
  body: { schema: PartnerTestRequest, optional: true, unchecked: true, example: { lead: EXAMPLE_LEAD } },
  answers: {
    200: {
      description: 'What the partner answered, and what a delivery would make of it.',
      schema: PartnerTestReport,
    },
    404: 'NotFound',
  },
});

export const pausePartner = route({
  method: 'post',
  path: '/v1/admin/partners/{id}/pause',
  party: 'admin',
  operationId: 'pausePartner',
  tag: 'Partners',
  summary: 'Pause a partner',
  description:
    'As the circuit breaker does: new leads skip the partner, its retries wait, until `POST /v1/admin/partners/:id/resume`. The body is optional.',
  params: idOf('partner'),
  resource: 'partner',
  body: {
    schema: PartnerPause,
    optional: true,
    unchecked: true,
    example: { reason: 'buyer asked to stop until Monday' },
  },
  answers: { 200: { description: 'The paused partner.', schema: Partner }, 404: 'NotFound' },
});

export const getPartnerHealth = route({
  method: 'get',
  path: '/v1/admin/partners/{id}/health',
  party: 'admin',
  operationId: 'getPartnerHealth',
  tag: 'Partners',
  summary: 'How a partner is doing',
  description:
    'Its deliveries since a time by status, the requests they took, its success rate and last failed attempt, its failures in a row, and how much of its hourly and daily cap is in use now (counted as the worker counts them).',
  params: idOf('partner'),
  resource: 'partner',
  query: Type.Object({ since: Type.Optional(since('24 hours ago')) }),
  answers: {
    200: { description: 'The figures.', schema: PartnerHealth },
    404: 'NotFound',
    422: 'Invalid',
  },
});
