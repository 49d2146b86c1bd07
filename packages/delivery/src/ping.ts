import {
  isContactPath,
  readLeadPath,
  RESERVED_HEADERS,
  storableText,
  type PingSettings,
  type PublicLead,
} from '@leadrouter/core/runtime';
import { readAnswerAmount, ZERO, type Amount } from '@leadrouter/money';
import { readJsonPath } from './classify.js';
import type { ExchangeResult, OutgoingRequest } from './send.js';

// A partner's ping (README "Ping/post", ADR 0032): the request asking it for a bid on a lead without its contact
// data, and what its answer says — pure, so every answer is a plain test case. Sent with `exchange` and the
// process's agents: the SSRF rules of deliveries.

/** A lead as a ping carries it: no name, phone or email. */
export type PingLead = Omit<PublicLead, 'name' | 'phone' | 'email'>;

/** The lead without its contact data, whatever else the caller's object holds. */
export function pingLead(lead: PingLead & Partial<Pick<PublicLead, 'name' | 'phone' | 'email'>>): PingLead {
  const { id, geo, source, fields } = lead;
  return { id, geo, source, fields };
}

/** What is read of a ping's answer at most: a bid is a few bytes. */
export const PING_READ_LIMIT_BYTES = 16 * 1024;

/**
 * The body of a ping: with a fieldMap just the mapped fields, without one the lead's `id`, `geo`, `source` and
 * `fields`. Contact data is never in it: the lead given carries none, and a map naming it (refused when the
 * partner is saved; a row written otherwise) maps nothing.
 */
export function pingPayload(
  lead: PingLead,
  fieldMap: Record<string, string> | null | undefined,
): Record<string, unknown> {
  const safe = pingLead(lead);
  if (!fieldMap) return { ...safe };
  const out: Record<string, unknown> = {};
  for (const [partnerField, path] of Object.entries(fieldMap)) {
    if (isContactPath(path)) continue;
    // Contact paths are skipped above, so the lead's missing contact fields are never read.
    const value = readLeadPath(safe as PublicLead, path);
    if (value !== undefined && value !== null) out[partnerField] = value;
  }
  return out;
}

/**
 * The request of one ping: the partner's ping `url` and `method`, its headers (lower-cased, reserved ones
 * dropped, as for deliveries), `X-Ping-Id`, and a timeout of the sooner of its `timeoutMs` and what is left of
 * the auction (`timeoutMs` here).
 */
export function pingRequest(
  settings: PingSettings,
  lead: PingLead,
  pingId: string,
  timeoutMs: number,
): OutgoingRequest {
  return {
    url: settings.url,
    method: settings.method,
    body: JSON.stringify(pingPayload(lead, settings.fieldMap)),
    timeoutMs: Math.max(1, Math.min(settings.timeoutMs, timeoutMs)),
    headers: {
      ...Object.fromEntries(
        Object.entries(settings.headers)
          .map(([k, v]) => [k.toLowerCase(), v] as const)
          .filter(([k]) => !RESERVED_HEADERS.has(k)),
      ),
      'content-type': 'application/json',
      accept: 'application/json',
      'user-agent': 'leadrouter',
      'x-ping-id': pingId,
    },
  };
}

/** What a ping came to: a bid (exact, with the partner's reference), no bid, no answer in time, or an error. */
export type PingAnswer =
  | { outcome: 'bid'; bid: Amount; reference?: string; durationMs: number; httpStatus: number }
  | { outcome: 'no_bid'; reason: string; durationMs: number; httpStatus: number }
  | { outcome: 'timeout'; durationMs: number }
  | { outcome: 'error'; reason: string; durationMs: number; httpStatus?: number };

const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT']);

/**
 * What a ping's exchange says. A 2xx JSON answer with a number at `bidPath` (not negative, numeric(12,4)'s
 * range, rounded to 4 places) and, with `acceptWhen`, its value, is a bid; a 2xx without one, or 204, is no
 * bid; any other status, a cut or unreadable answer, is an error; no answer within the timeout is a timeout.
 * Bids at or below zero are no bids. The floor is the auction's (`rankBids`).
 */
export function readPingAnswer(result: ExchangeResult, settings: PingSettings): PingAnswer {
  const { durationMs } = result;
  if (result.kind === 'error')
    return TIMEOUT_CODES.has(result.code)
      ? { outcome: 'timeout', durationMs }
      : { outcome: 'error', reason: storableText(`${result.code}: ${result.message}`, { chars: 300 }), durationMs };
  const httpStatus = result.status;
  if (httpStatus < 200 || httpStatus >= 300)
    return { outcome: 'error', reason: `HTTP ${httpStatus}`, durationMs, httpStatus };
  if (httpStatus === 204) return { outcome: 'no_bid', reason: 'HTTP 204', durationMs, httpStatus };
  if (result.overLimit) return { outcome: 'error', reason: 'answer too large', durationMs, httpStatus };
  const body = result.bytes.toString('utf8');
  if (settings.acceptWhen) {
    const value = readJsonPath(body, settings.acceptWhen.path);
    if (value !== settings.acceptWhen.equals)
      return {
        outcome: 'no_bid',
        reason: `${settings.acceptWhen.path} is not ${String(settings.acceptWhen.equals)}`,
        durationMs,
        httpStatus,
      };
  }
  const bid = readAnswerAmount(readJsonPath(body, settings.bidPath));
  if (bid === null || bid.eq(ZERO))
    return { outcome: 'no_bid', reason: `no bid at ${settings.bidPath}`, durationMs, httpStatus };
  let reference: string | undefined;
  if (settings.referencePath) {
    const raw = readJsonPath(body, settings.referencePath);
    if (typeof raw === 'string' || typeof raw === 'number') reference = storableText(String(raw), { chars: 200 });
  }
  return { outcome: 'bid', bid, ...(reference !== undefined ? { reference } : {}), durationMs, httpStatus };
}
