import {
  RESERVED_HEADERS,
  storableText,
  statusPullUrl,
  type StatusPullSettings,
  type StatusPullWindow,
} from '@leadrouter/core/runtime';
import { parseStatusPullItem, statusPullItems, type StatusPullItemParse } from '@leadrouter/money';
import { DESTINATION_REFUSED } from './destination.js';
import type { BodilessRequest, ExchangeResult, OutgoingRequest } from './send.js';

// A partner's status API (README "Feedback from partners", ADR 0029): the request for one page of a status pull,
// and what its answer says — pure, so every hostile answer is a plain test case.

/** The largest page answer read: past it the pull fails rather than read on (or parse half a page). */
export const STATUS_PULL_MAX_BYTES = 8 * 1024 * 1024;
/** The most items one page may hold (a page without paging is the whole window). */
export const STATUS_PULL_MAX_ITEMS = 50_000;

/**
 * The request for page `page` (null: the API is not paged) of a pull over `window`: the URL with `{{from}}`
 * and `{{to}}` filled in; for `GET` the page parameters in its query string, for `POST` a JSON body
 * `{from, to, <page param>, <size param>}`. The partner's headers (lower-cased, reserved ones dropped, as for
 * deliveries), `accept: application/json`.
 */
export function statusPullRequest(
  settings: StatusPullSettings,
  window: StatusPullWindow,
  page: number | null,
  timeoutMs: number,
): OutgoingRequest | BodilessRequest {
  const url = new URL(statusPullUrl(settings.url, window));
  const paging: Record<string, number> = {};
  if (page !== null && settings.page) {
    paging[settings.page.param] = page;
    if (settings.page.sizeParam) paging[settings.page.sizeParam] = settings.page.size;
  }
  const headers: Record<string, string> = {
    ...Object.fromEntries(
      Object.entries(settings.headers)
        .map(([k, v]) => [k.toLowerCase(), v] as const)
        .filter(([k]) => !RESERVED_HEADERS.has(k)),
    ),
    accept: 'application/json',
    'user-agent': 'leadrouter',
  };
  if (settings.method === 'GET') {
    for (const [name, value] of Object.entries(paging)) url.searchParams.set(name, String(value));
    return { url: url.toString(), method: 'GET', headers, timeoutMs };
  }
  const body = JSON.stringify({ from: window.from.toISOString(), to: window.to.toISOString(), ...paging });
  return {
    url: url.toString(),
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body,
    timeoutMs,
  };
}

/** One page of a pull as read: its items (each read, or why not), or why the page cannot be read. */
export type StatusPullPage = { ok: true; items: StatusPullItemParse[] } | { ok: false; error: string };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * What one answer of the partner's status API says: a 2xx JSON answer (UTF-8, at most
 * STATUS_PULL_MAX_BYTES) with an array at `itemsPath`, each item read by `parseStatusPullItem`. Anything else
 * — no answer, a refused destination, another status, a redirect (not followed), too large, bytes that are not
 * UTF-8, text that is not JSON, no array where the items should be, too many items — is an error that says
 * which, and never quotes the answer (it may hold people's data).
 */
export function readStatusPullPage(
  result: ExchangeResult,
  paths: Pick<StatusPullSettings, 'itemsPath' | 'referencePath' | 'statusPath' | 'amountPath' | 'atPath'>,
  maxBytes = STATUS_PULL_MAX_BYTES,
): StatusPullPage {
  if (result.kind === 'error') {
    if (result.code === DESTINATION_REFUSED) return { ok: false, error: result.message };
    if (result.code === 'ETIMEDOUT') return { ok: false, error: `no answer within ${result.durationMs} ms (timeout)` };
    return { ok: false, error: `no answer: ${result.code}: ${result.message}` };
  }
  if (result.status >= 300 && result.status < 400)
    return { ok: false, error: `the answer was HTTP ${result.status}, a redirect (redirects are not followed)` };
  if (result.status < 200 || result.status >= 300) return { ok: false, error: `the answer was HTTP ${result.status}` };
  if (result.overLimit || result.bytes.length > maxBytes)
    return { ok: false, error: `the answer is larger than ${Math.floor(maxBytes / 1024)} KiB` };
  let text: string;
  try {
    text = utf8.decode(result.bytes);
  } catch {
    return { ok: false, error: 'the answer is not UTF-8 text' };
  }
  let page: unknown;
  try {
    page = JSON.parse(text);
  } catch {
    return { ok: false, error: text.trim() === '' ? 'the answer is empty, not JSON' : 'the answer is not JSON' };
  }
  const items = statusPullItems(page, paths);
  if (items === null) return { ok: false, error: `the answer has no array at \`${paths.itemsPath}\`` };
  if (items.length > STATUS_PULL_MAX_ITEMS)
    return { ok: false, error: `the answer has ${items.length} items, more than ${STATUS_PULL_MAX_ITEMS}` };
  return { ok: true, items: items.map((item) => storable(parseStatusPullItem(item, paths), paths)) };
}

/**
 * An item's reference and status as they can be stored and compared (`storableText`: no NUL, no lone
 * surrogate — PostgreSQL takes neither); one left empty by that cannot be read.
 */
function storable(parsed: StatusPullItemParse, paths: Pick<StatusPullSettings, 'referencePath' | 'statusPath'>) {
  if (!parsed.ok) return parsed;
  const reference = storableText(parsed.item.reference).trim();
  const status = storableText(parsed.item.status);
  if (reference === '')
    return { ok: false as const, error: `${paths.referencePath}: no reference of 1 to 200 characters` };
  if (status.trim() === '')
    return { ok: false as const, error: `${paths.statusPath}: no status of 1 to 200 characters` };
  return { ok: true as const, item: { ...parsed.item, reference, status } };
}
