import { storableText } from '@leadrouter/core';
import { readJsonPath } from './classify.js';

/** The largest price a delivery can record (its column is numeric(12, 4)); a larger one is left out as unreadable. */
export const MAX_ANSWER_PRICE = 99_999_999.9999;

/** Where to find facts in a partner's JSON answer (JSON paths like `result.price`). */
export interface ResponseMap {
  price?: string;
  reason?: string;
  reference?: string;
}

export interface PartnerAnswer {
  price?: number;
  reason?: string;
  reference?: string;
}

/**
 * What a partner's answer says about the lead, through its responseMap: the
 * price it paid (a number, or a numeric string, up to MAX_ANSWER_PRICE), its
 * reason for a rejection, its own reference. Missing or unreadable values
 * are left out; the texts come back as they can be stored (`storableText`:
 * no NUL, no lone surrogate, cut on a character boundary).
 */
export function readPartnerAnswer(body: string, map: ResponseMap | null | undefined): PartnerAnswer {
  if (!map) return {};
  const out: PartnerAnswer = {};
  if (map.price) {
    const raw = readJsonPath(body, map.price);
    const price = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    if (Number.isFinite(price) && price >= 0 && price <= MAX_ANSWER_PRICE) out.price = price;
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
