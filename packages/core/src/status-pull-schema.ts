/**
 * A partner's `statusPull` as the admin API takes it (README "Feedback from partners", ADR 0029); what it means,
 * and what JSON Schema cannot say about it, is status-pull.ts's.
 */
import { PartnerHeadersSchema } from './rules.js';
import { Closed, OneOf, Type, type Static } from './schema.js';

/** The methods a pull may use. */
export const STATUS_PULL_METHODS = ['GET', 'POST'] as const;

const path = (description: string) =>
  Type.String({
    minLength: 1,
    maxLength: 200,
    pattern: '^[^.]+(\\.[^.]+)*$',
    description: `${description}: a dotted path in the JSON (\`data\`, \`result.items\`, \`lead.id\`; an array index is a number: \`items.0\`)`,
  });
const paramName = (description: string) =>
  Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.\\[\\]-]+$', description });

export const StatusPullSchema = Closed(
  {
    url: Type.String({
      minLength: 1,
      maxLength: 2048,
      pattern: '^https?://',
      description:
        'the partner’s status API; it may hold `{{from}}` and `{{to}}`, replaced by the ends of the look-back window (ISO 8601 times, URL-encoded)',
    }),
    method: Type.Optional(
      OneOf(STATUS_PULL_METHODS, {
        description:
          '`GET` (default): the page parameters go in the query string; `POST`: a JSON body `{from, to, <page param>, <size param>}`',
      }),
    ),
    headers: Type.Optional(PartnerHeadersSchema),
    intervalSeconds: Type.Optional(
      Type.Integer({ minimum: 10, maximum: 604800, description: 'how often to ask (default 300)' }),
    ),
    lookbackHours: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 2160,
        description:
          'how far back each pull asks for (`{{from}}` is this long before `{{to}}`, the pull’s start; default 72)',
      }),
    ),
    itemsPath: path('where the array of items is in an answer'),
    referencePath: path(
      'where an item’s lead is named: the partner’s reference from its answer to the delivery, else our lead id',
    ),
    statusPath: path('where an item’s raw status is (turned into events by the partner’s `statusMap`)'),
    amountPath: Type.Optional(path('where an item’s conversion amount is, if it has one')),
    atPath: Type.Optional(path('where the ISO 8601 time of an item’s status is, if it has one')),
    page: Type.Optional(
      Closed(
        {
          param: paramName('the page number’s parameter; pages are numbered from 1'),
          sizeParam: Type.Optional(paramName('the page size’s parameter, if the API takes one')),
          size: Type.Integer({
            minimum: 1,
            maximum: 5000,
            description: 'items per page: a page with fewer is the last one',
          }),
        },
        { description: 'paging: pages are asked for one after the other until one has fewer than `size` items' },
      ),
    ),
  },
  {
    description:
      'Ask the partner’s API for the statuses of its leads every `intervalSeconds`; each item becomes a `status` event. Requests go out under the rules of deliveries (no private destinations, the partner’s `timeoutMs`).',
  },
);
export type StatusPull = Static<typeof StatusPullSchema>;
