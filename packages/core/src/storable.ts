/** A UTF-16 surrogate without its pair: no Unicode character, and PostgreSQL refuses it in JSONB. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const NUL = /\u0000/g;

/** NUL, or a surrogate without its pair: what PostgreSQL cannot store as text or JSONB. */
export const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export interface TextLimit {
  /** At most this many characters (code points, as PostgreSQL's `varchar(n)` counts them). */
  chars?: number;
  /** At most this many bytes of UTF-8. */
  bytes?: number;
}

/**
 * Text from outside — a partner's answer, a reason or reference read from
 * it, an error message — made safe to store in a PostgreSQL `text` or
 * `varchar` column and in JSONB, whatever it holds: NUL characters are
 * dropped (PostgreSQL stores none, and one in a query's text ends the
 * message), lone surrogates become U+FFFD (as `String#toWellFormed` does;
 * JSONB refuses the `\ud83d` that JSON.stringify writes for one), and the
 * text is cut to `limit` on a character boundary, never inside a surrogate
 * pair (which would leave a lone surrogate again).
 */
export function storableText(value: string, limit: TextLimit = {}): string {
  const text = value.replace(NUL, '').replace(LONE_SURROGATE, '\uFFFD');
  const { chars = Infinity, bytes = Infinity } = limit;
  // A UTF-16 unit is at most 3 bytes of UTF-8 (a pair, 2 units, is 4), and there are at least as many units as characters.
  if (text.length <= chars && text.length * 3 <= bytes) return text;
  let count = 0;
  let size = 0;
  let end = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const width = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (count + 1 > chars || size + width > bytes) break;
    count += 1;
    size += width;
    end += ch.length;
  }
  return text.slice(0, end);
}
