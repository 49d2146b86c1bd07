/**
 * A partner's `statusPull` (README "Feedback from partners", ADR 0029): where and how often leadrouter asks the
 * partner's API for the statuses of the leads it bought, and where each item's reference, status, amount and
 * time are in its JSON answer. The admin API takes it with this schema and `statusPullProblems`; packages/db
 * stores it as given; the worker reads it through `statusPullSettings` (defaults filled in).
 */
import type { FieldError } from './errors.js';
import { partnerHeaderProblems, PartnerHeadersSchema } from './rules.js';
import { Closed, OneOf, Type, type Static } from './schema.js';

export const STATUS_PULL_METHODS = ['GET', 'POST'] as const;

/** What a stored `statusPull` without these fields means. */
export const STATUS_PULL_DEFAULTS = { method: 'GET', intervalSeconds: 300, lookbackHours: 72 } as const;

/** The placeholders a status-pull URL may hold: the look-back window's ends, as ISO 8601 times. */
export const STATUS_PULL_PLACEHOLDERS = ['{{from}}', '{{to}}'] as const;

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

/** A stored `statusPull` with its defaults filled in: what a pull does. */
export type StatusPullSettings = StatusPull & {
  method: (typeof STATUS_PULL_METHODS)[number];
  headers: Record<string, string>;
  intervalSeconds: number;
  lookbackHours: number;
};

export function statusPullSettings(stored: StatusPull): StatusPullSettings {
  return {
    ...stored,
    method: stored.method ?? STATUS_PULL_DEFAULTS.method,
    headers: stored.headers ?? {},
    intervalSeconds: stored.intervalSeconds ?? STATUS_PULL_DEFAULTS.intervalSeconds,
    lookbackHours: stored.lookbackHours ?? STATUS_PULL_DEFAULTS.lookbackHours,
  };
}

/** The look-back window of a pull. */
export interface StatusPullWindow {
  from: Date;
  to: Date;
}

/** The window of a pull started at `now`. */
export function statusPullWindow(settings: Pick<StatusPullSettings, 'lookbackHours'>, now: Date): StatusPullWindow {
  return { from: new Date(now.getTime() - settings.lookbackHours * 3_600_000), to: now };
}

/** The URL with `{{from}}` and `{{to}}` replaced by the window's ends (ISO 8601, URL-encoded). */
export function statusPullUrl(url: string, window: StatusPullWindow): string {
  return url
    .replaceAll('{{from}}', encodeURIComponent(window.from.toISOString()))
    .replaceAll('{{to}}', encodeURIComponent(window.to.toISOString()));
}

/**
 * What JSON Schema cannot say about a `statusPull`: its URL, once its placeholders are filled in, must be an
 * http(s) URL, and hold no placeholder but `{{from}}` and `{{to}}`; its headers follow the rules of delivery
 * headers (`partnerHeaderProblems`); the page's two parameters must differ. Anything that is not an object is
 * left to the schema.
 */
export function statusPullProblems(value: unknown, pointer = '/statusPull'): FieldError[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  const { url, headers, page } = value as { url?: unknown; headers?: unknown; page?: unknown };
  const errors = partnerHeaderProblems(headers, `${pointer}/headers`);
  if (typeof url === 'string') {
    const unknown = (url.match(/\{\{[^}]*\}\}/g) ?? []).filter(
      (p) => !(STATUS_PULL_PLACEHOLDERS as readonly string[]).includes(p),
    );
    if (unknown.length > 0)
      errors.push({
        field: `${pointer}/url`,
        message: `holds ${unknown.map((p) => `\`${p}\``).join(', ')}: the only placeholders are \`{{from}}\` and \`{{to}}\``,
      });
    else {
      const sample = new Date(0);
      let parsed: URL | undefined;
      try {
        parsed = new URL(statusPullUrl(url, { from: sample, to: sample }));
      } catch {
        parsed = undefined;
      }
      if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.hostname === '')
        errors.push({ field: `${pointer}/url`, message: 'is not an http(s) URL (with its placeholders filled in)' });
      else if (parsed.username !== '' || parsed.password !== '')
        errors.push({ field: `${pointer}/url`, message: 'must not hold credentials: send them in `headers`' });
    }
  }
  if (typeof page === 'object' && page !== null) {
    const { param, sizeParam } = page as { param?: unknown; sizeParam?: unknown };
    if (typeof param === 'string' && param === sizeParam)
      errors.push({ field: `${pointer}/page/sizeParam`, message: 'must differ from `param`' });
  }
  return errors;
}
