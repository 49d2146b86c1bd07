/**
 * How long an Idempotency-Key holds (24 h, README "Posting leads (for sources)"); an older key is released when it
 * is used again. The lead API says it (@leadrouter/api), accepting leads applies it and the worker's housekeeping
 * prunes the keys past it (@leadrouter/lifecycle).
 */
export const IDEMPOTENCY_WINDOW_HOURS = 24;
