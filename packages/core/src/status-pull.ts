/**
 * A partner's `statusPull` (README "Feedback from partners", ADR 0029): where and how often leadrouter asks the
 * partner's API for the statuses of the leads it bought, and where each item's reference, status, amount and
 * time are in its JSON answer. The admin API takes it with its schema (status-pull-schema.ts) and
 * `statusPullProblems`; packages/db stores it as given; the worker reads it through `statusPullSettings` (defaults
 * filled in). No schema here: the worker loads this module (through `@leadrouter/core/runtime`) without typebox.
 */
import type { FieldError } from './errors.js';
import { partnerHeaderProblems } from './headers.js';
import type { StatusPull } from './status-pull-schema.js';

/** What a stored `statusPull` without these fields means. */
export const STATUS_PULL_DEFAULTS = { method: 'GET', intervalSeconds: 300, lookbackHours: 72 } as const;

/** The placeholders a status-pull URL may hold: the look-back window's ends, as ISO 8601 times. */
export const STATUS_PULL_PLACEHOLDERS = ['{{from}}', '{{to}}'] as const;

/** A stored `statusPull` with its defaults filled in: what a pull does. */
export type StatusPullSettings = StatusPull & {
  method: NonNullable<StatusPull['method']>;
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
