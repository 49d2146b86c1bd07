/**
 * A partner's headers as delivery sends them and the admin API checks them: the names it may not set, and what
 * JSON Schema cannot say about them (their schema, `PartnerHeadersSchema`, is rules.ts's). No schema here: the
 * worker loads this module (through `@leadrouter/core/runtime`) without typebox.
 */
import type { FieldError } from './errors.js';

/**
 * Headers a partner may not set, lower-cased, with why. Framing and
 * connection headers are the HTTP client's: a `Content-Length` shorter than
 * the body would cut it in two and smuggle the rest onto a kept-alive
 * connection as a second request. The signing headers come from the
 * partner's `secret`. `X-Lead-Id` and `Idempotency-Key` are leadrouter's
 * own, the same on every retry (a partner value would be silently replaced).
 */
export const RESERVED_HEADERS: ReadonlyMap<string, string> = new Map([
  ...[
    'host',
    'content-length',
    'transfer-encoding',
    'connection',
    'keep-alive',
    'proxy-connection',
    'te',
    'trailer',
    'upgrade',
    'expect',
  ].map((name) => [name, 'is set by the HTTP client for each request; a partner may not set it'] as const),
  ...['webhook-id', 'webhook-timestamp', 'webhook-signature'].map(
    (name) => [name, 'is a signing header, sent when the partner has a `secret`; set the secret instead'] as const,
  ),
  ...['x-lead-id', 'idempotency-key', 'x-ping-id', 'x-ping-reference'].map(
    (name) =>
      [name, 'is set by leadrouter on every delivery (the same on every retry); a partner may not set it'] as const,
  ),
]);

/** Printable ASCII: what an HTTP field value can carry unambiguously (RFC 9110 §5.5), without control characters. */
const HEADER_VALUE = /^[\x20-\x7E]*$/;

/**
 * What JSON Schema cannot say about partner headers, with one error per
 * header: a reserved name (in any case), a name given twice in different
 * cases (HTTP names are case-insensitive: only one would be sent), a value
 * with control characters — a CR or LF would make every delivery fail — or
 * characters beyond ASCII. Anything that is not an object of strings is left
 * to the schema.
 */
export function partnerHeaderProblems(headers: unknown, pointer = '/headers'): FieldError[] {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) return [];
  const errors: FieldError[] = [];
  const seen = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    const field = `${pointer}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    const lower = name.toLowerCase();
    const reserved = RESERVED_HEADERS.get(lower);
    if (reserved) errors.push({ field, message: reserved });
    const first = seen.get(lower);
    if (first !== undefined)
      errors.push({ field, message: `names the same header as ${first} (header names are case-insensitive)` });
    else seen.set(lower, name);
    if (typeof value === 'string' && !HEADER_VALUE.test(value))
      errors.push({
        field,
        message: 'must be printable ASCII: no control characters (CR, LF, tab, NUL…) and nothing beyond ASCII',
      });
  }
  return errors;
}
