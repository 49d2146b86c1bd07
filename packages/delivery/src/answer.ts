import { readJsonPath } from './classify.js';

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
 * price it paid (a number, or a numeric string), its reason for a rejection,
 * its own reference. Missing or unreadable values are left out.
 */
export function readPartnerAnswer(body: string, map: ResponseMap | null | undefined): PartnerAnswer {
  if (!map) return {};
  const out: PartnerAnswer = {};
  if (map.price) {
    const raw = readJsonPath(body, map.price);
    const price = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    if (Number.isFinite(price) && price >= 0) out.price = price;
  }
  for (const key of ['reason', 'reference'] as const) {
    const path = map[key];
    if (!path) continue;
    const raw = readJsonPath(body, path);
    if (typeof raw === 'string' || typeof raw === 'number')
      out[key] = String(raw).slice(0, key === 'reason' ? 500 : 200);
  }
  return out;
}
