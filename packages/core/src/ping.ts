/**
 * Ping/post (README "Ping/post", ADR 0032): a partner's `ping` — where and how it is asked for a bid on a lead
 * without its contact data, and where the bid and its reference are in the answer — and an auction route's
 * `auction` settings. The admin API takes them with their schemas (ping-schema.ts; the auction's is
 * @leadrouter/api's) and `pingProblems`/`auctionProblems`; packages/db stores them as given; the worker reads them
 * through `pingSettings`/`auctionSettings`. No schema here: the worker loads this module (through
 * `@leadrouter/core/runtime`) without typebox.
 */
import type { FieldError } from './errors.js';
import { partnerHeaderProblems } from './headers.js';
import type { Ping } from './ping-schema.js';

/** The lead's contact data: never in a ping, nor in a source's ping (README "Ping/post"). */
export const CONTACT_FIELDS = ['name', 'phone', 'email'] as const;

/** What a stored `ping` without these fields means. */
export const PING_DEFAULTS = { method: 'POST', timeoutMs: 500, bidPath: 'bid' } as const;
/** What a stored `auction` without these fields means. */
export const AUCTION_DEFAULTS = { timeoutMs: 800, floor: '0' } as const;

/** A stored `ping` with its defaults filled in: what a ping does. */
export type PingSettings = Ping & {
  method: string;
  headers: Record<string, string>;
  timeoutMs: number;
  bidPath: string;
};

export function pingSettings(stored: Ping): PingSettings {
  return {
    ...stored,
    method: stored.method ?? PING_DEFAULTS.method,
    headers: stored.headers ?? {},
    timeoutMs: stored.timeoutMs ?? PING_DEFAULTS.timeoutMs,
    bidPath: stored.bidPath ?? PING_DEFAULTS.bidPath,
  };
}

/** Whether a lead path names contact data (`name`, `phone`, `email`). */
export function isContactPath(path: string): boolean {
  return (CONTACT_FIELDS as readonly string[]).includes(path);
}

/**
 * What JSON Schema cannot say about a `ping`: its headers follow the rules of delivery headers, its URL is an
 * http(s) URL without credentials, and its `fieldMap` names no contact data (one error per such entry).
 */
export function pingProblems(value: unknown, pointer = '/ping'): FieldError[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  const { url, headers, fieldMap } = value as { url?: unknown; headers?: unknown; fieldMap?: unknown };
  const errors = partnerHeaderProblems(headers, `${pointer}/headers`);
  if (typeof url === 'string') {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.hostname === '')
      errors.push({ field: `${pointer}/url`, message: 'is not an http(s) URL' });
    else if (parsed.username !== '' || parsed.password !== '')
      errors.push({ field: `${pointer}/url`, message: 'must not hold credentials: send them in `headers`' });
  }
  if (typeof fieldMap === 'object' && fieldMap !== null && !Array.isArray(fieldMap))
    for (const [name, path] of Object.entries(fieldMap))
      if (typeof path === 'string' && isContactPath(path))
        errors.push({
          field: `${pointer}/fieldMap/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`,
          message: `names \`${path}\`: a ping carries no contact data (name, phone, email)`,
        });
  return errors;
}

/** An auction route's `auction` as stored: `floor` as exact decimal text (the admin API checks it as an amount). */
export interface Auction {
  timeoutMs?: number;
  floor?: string;
}

/** A stored `auction` with its defaults filled in; `floor` as exact decimal text. */
export interface AuctionSettings {
  timeoutMs: number;
  floor: string;
}

export function auctionSettings(stored: Auction | null | undefined): AuctionSettings {
  return {
    timeoutMs: stored?.timeoutMs ?? AUCTION_DEFAULTS.timeoutMs,
    floor: stored?.floor ?? AUCTION_DEFAULTS.floor,
  };
}

/** `auction` is for auction routes only. */
export function auctionProblems(body: unknown): FieldError[] {
  if (typeof body !== 'object' || body === null) return [];
  const { strategy, auction } = body as { strategy?: unknown; auction?: unknown };
  if (auction !== undefined && auction !== null && strategy !== undefined && strategy !== 'auction')
    return [{ field: '/auction', message: 'is only for `strategy: "auction"`' }];
  return [];
}
