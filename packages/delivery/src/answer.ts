import { storableText } from '@leadrouter/core/runtime';
import { readAnswerAmount, type Amount } from '@leadrouter/money';
import { readJsonPath } from './classify.js';

/** Where to find facts in a partner's JSON answer (JSON paths like `result.price`). */
export interface ResponseMap {
  price?: string;
  reason?: string;
  reference?: string;
}

export interface PartnerAnswer {
  /** Exact (big.js), rounded to 4 decimal places: what the ledger records for the sale. */
  price?: Amount;
  reason?: string;
  reference?: string;
}

/**
 * What a partner's answer says about the lead, through its responseMap: the
 * price it paid (a number, or a numeric string, not negative, up to what
 * numeric(12, 4) holds, rounded to 4 places: `readAnswerAmount`), its
 * reason for a rejection, its own reference. Missing or unreadable values
 * are left out; the texts come back as they can be stored (`storableText`:
 * no NUL, no lone surrogate, cut on a character boundary).
 */
export function readPartnerAnswer(body: string, map: ResponseMap | null | undefined): PartnerAnswer {
  if (!map) return {};
  const out: PartnerAnswer = {};
  if (map.price) {
    const price = readAnswerAmount(readJsonPath(body, map.price));
    if (price !== null) out.price = price;
  }
  for (const key of ['reason', 'reference'] as const) {
    const path = map[key];
    if (!path) continue;
    const raw = readJsonPath(body, path);
    if (typeof raw === 'string' || typeof raw === 'number')
      out[key] = storableText(String(raw), { chars: key === 'reason' ? 500 : 200 });
  }
  return out;
}

/** What is kept of a response body (README "Whatever a partner answers": the first 2 KiB). */
export const EXCERPT_BYTES = 2048;
/**
 * The first 2 KiB of a body, as it can be stored: cut on a character
 * boundary, without NUL characters or lone surrogates (`storableText`).
 */
export function excerpt(body: string): string {
  return storableText(body, { bytes: EXCERPT_BYTES });
}
