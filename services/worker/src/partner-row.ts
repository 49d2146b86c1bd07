import type { Schedule } from '@leadrouter/core';
import type { AcceptWhen, ResponseMap } from '@leadrouter/delivery';

/** A partner as the advance step (eligibility) and a delivery attempt read it. */
export interface PartnerRow {
  id: string;
  name: string;
  url: string;
  method: string;
  headers: Record<string, string>;
  secret: string | null;
  fieldMap: Record<string, string> | null;
  acceptWhen: AcceptWhen | null;
  responseMap: ResponseMap | null;
  timeoutMs: number;
  maxAttempts: number;
  backoffDelayMs: number;
  backoffMaxDelayMs: number;
  concurrency: number | null;
  /** numeric, as text */
  price: string | null;
  active: boolean;
  paused: boolean;
  pauseReason: string | null;
  consecutiveFailures: number;
  schedule: Schedule | null;
  capHourly: number | null;
  capDaily: number | null;
}

/** The partners row `p` as a `PartnerRow` (one JSON column: the names stay those of the type). */
export const PARTNER_ROW_JSON = `json_build_object(
  'id', p.id, 'name', p.name, 'url', p.url, 'method', p.method, 'headers', p.headers, 'secret', p.secret,
  'fieldMap', p.field_map, 'acceptWhen', p.accept_when, 'responseMap', p.response_map,
  'timeoutMs', p.timeout_ms, 'maxAttempts', p.max_attempts, 'backoffDelayMs', p.backoff_delay_ms,
  'backoffMaxDelayMs', p.backoff_max_delay_ms, 'concurrency', p.concurrency, 'price', p.price::text,
  'active', p.active, 'paused', p.paused_at IS NOT NULL, 'pauseReason', p.pause_reason,
  'consecutiveFailures', p.consecutive_failures, 'schedule', p.schedule, 'capHourly', p.cap_hourly,
  'capDaily', p.cap_daily)`;
