/** The admin API's answers, as the console reads them (the OpenAPI document at /openapi.json is the reference). */

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export type LeadStatus = 'queued' | 'routing' | 'delivered' | 'unsold' | 'unmatched' | 'dead_lettered';
export const LEAD_STATUSES: LeadStatus[] = ['queued', 'routing', 'delivered', 'unsold', 'unmatched', 'dead_lettered'];

export interface Stats {
  since: string;
  leads: { received: number; byStatus: Partial<Record<LeadStatus, number>> };
  rejections: { total: number; byReason: Record<string, number> };
  revenue: number;
  sources: { sourceId: string | null; name: string | null; received: number; leads: Record<string, number> }[];
  partners: {
    partnerId: string;
    name: string;
    deliveries: { pending: number; accepted: number; rejected: number; dead_lettered: number };
    attempts: number;
    revenue: number;
  }[];
}

export interface Timeline {
  since: string;
  until: string;
  step: 'minute' | 'hour';
  points: { at: string; received: number; delivered: number }[];
}

export interface QueueDepths {
  queues: { name: string; waiting: number; active: number; delayed: number; failed: number }[];
  deadLetters: number;
}

export interface Source {
  id: string;
  name: string;
  apiKeyPrefix: string;
  postbackUrl: string | null;
  hasPostbackSecret: boolean;
  rateLimitPerMinute: number | null;
  duplicateWindowHours: number;
  active: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface SourceWithKey extends Source {
  apiKey: string;
  postbackSecret?: string;
}

export type Filters = {
  geo?: string[];
  sourceIds?: string[];
  source?: string[];
  fields?: { field: string; op: string; value?: unknown }[];
} & Record<string, unknown>;

export interface Partner {
  id: string;
  name: string;
  url: string;
  method: string;
  headers: Record<string, string>;
  hasSecret: boolean;
  fieldMap: Record<string, string> | null;
  acceptWhen: unknown;
  responseMap: unknown;
  timeoutMs: number;
  maxAttempts: number;
  backoff: { delayMs: number; maxDelayMs: number };
  caps: { hourly: number | null; daily: number | null };
  schedule: { timezone: string; days: Record<string, string[]> } | null;
  filters: Filters | null;
  concurrency: number | null;
  price: number | null;
  pauseAfterFailures: number;
  active: boolean;
  status: 'active' | 'paused' | 'inactive';
  pausedAt: string | null;
  pauseReason: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface PartnerHealth {
  partnerId: string;
  since: string;
  deliveries: { pending: number; accepted: number; rejected: number; dead_lettered: number };
  attempts: number;
  successRate: number | null;
  consecutiveFailures: number;
  pauseAfterFailures: number;
  lastError: { at: string; outcome: string; error: string | null; httpStatus: number | null } | null;
  caps: {
    hour: { used: number; limit: number | null; periodStart: string };
    day: { used: number; limit: number | null; periodStart: string };
  };
}

export interface PartnerTestReport {
  outcome: string;
  reason?: string;
  note?: string;
  httpStatus: number | null;
  durationMs: number;
  error: string | null;
  response: string | null;
  answer: Record<string, unknown>;
  request: { method: string; url: string; headers: Record<string, string>; body: unknown };
}

export interface Route {
  id: string;
  name: string;
  priority: number;
  filters: Filters | null;
  partners: { partnerId: string; weight: number }[];
  strategy: 'priority' | 'round_robin' | 'weighted';
  maxDeliveries: number;
  active: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface ReplayView {
  routeId: string | null;
  routeName: string | null;
  offered: string[];
  skipped?: { partnerId: string; reason: string }[];
  reason?: string;
}

export interface DryRunAnswer {
  leads: number;
  from: string | null;
  to: string | null;
  notReplayed: string[];
  partners: { partnerId: string; name: string; draft: number; current: number; actual: number }[];
  unrouted: { draft: number; current: number; actual: number };
  changed: number;
  sample: {
    leadId: string;
    createdAt: string;
    draft: ReplayView;
    current: ReplayView;
    actual: { offered: string[] };
  }[];
}

export interface LeadListItem {
  id: string;
  status: LeadStatus;
  sourceId: string;
  sourceName: string | null;
  geo: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface RoutingRecord {
  routeId?: string;
  routeName?: string;
  strategy?: string;
  maxDeliveries?: number;
  candidates?: string[];
  reason?: string;
  decisions?: { partnerId: string; decision: string; reason?: string; at?: string }[];
}

export interface LeadDetail {
  id: string;
  status: LeadStatus;
  createdAt: string;
  updatedAt: string;
  source: { id: string; name: string };
  lead: {
    name: string;
    phone: string;
    email: string | null;
    geo: string | null;
    source: string | null;
    fields: Record<string, unknown> | null;
    consent: unknown;
  };
  routing: RoutingRecord | null;
  events: { at: string; status: LeadStatus; partner?: string; detail?: unknown }[];
  deliveries: {
    id: string;
    partner: string;
    partnerId: string;
    status: string;
    attempts: number;
    retries: number;
    lastError: string | null;
    reason: string | null;
    price: number | null;
    deadLetteredAt: string | null;
    createdAt: string;
    attemptLog: {
      attempt: number;
      outcome: string;
      httpStatus: number | null;
      durationMs: number;
      error: string | null;
      response: string | null;
      at: string;
    }[];
  }[];
}

export interface DeadLetter {
  id: string;
  leadId: string;
  partner: string;
  partnerId: string;
  attempts: number;
  retries: number;
  lastError: string | null;
  at: string | null;
}

export interface RetryAnswer {
  requeued: number;
  skipped?: { id: string; reason: string; message?: string }[];
  [k: string]: unknown;
}
