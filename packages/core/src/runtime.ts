/**
 * `@leadrouter/core/runtime`: what routing and delivering a lead use of this package — errors, lead paths, partner
 * headers, the ping, auction and status-pull settings, the routing record, the postback's body — from modules that
 * build no schema. The TypeBox schemas (schema.ts and the modules built on it: lead.ts, rules.ts, ping-schema.ts,
 * status-pull-schema.ts) are the API's contract, for the ingest and the admin API; typebox and the ES module
 * loader's caches cost a process about 4 MB of heap, and the worker about 16 MB of peak RSS (docs/performance.md,
 * "typebox out of the worker"). So the worker's code, and what it loads of packages/delivery, packages/routing and
 * packages/lifecycle (`@leadrouter/lifecycle/worker`), import core's values from here; types may come from either
 * entry (`import type` is erased). test/ops/worker-modules.test.ts fails if the worker loads typebox.
 * The package's entry (index.ts) exports all of this too.
 */
export { AppError, conflict, invalid, notFound, unavailable, type FieldError } from './errors.js';
export { compile, toFieldErrors } from './validation.js';
export { storableText } from './storable.js';
export { isUuid, UUID_RE } from './ids.js';
export { readLeadPath } from './lead-path.js';
export type { LeadFields, NormalisedLead, PingValues, PublicLead } from './lead.js';
export { IDEMPOTENCY_WINDOW_HOURS } from './idempotency.js';
export { RESERVED_HEADERS } from './headers.js';
export { compileRegex, regexErrors } from './regex.js';
export {
  CAP_PERIODS,
  type CapPeriod,
  type FeedbackEventKind,
  type FeedbackVia,
  type LeadStatus,
  type LedgerKind,
  type LedgerParty,
  type PostbackEvent,
  type RouteStrategy,
  type TerminalStatus,
} from './states.js';
export {
  auctionSettings,
  isContactPath,
  pingSettings,
  type Auction,
  type AuctionSettings,
  type PingSettings,
} from './ping.js';
export {
  STATUS_PULL_DEFAULTS,
  statusPullSettings,
  statusPullUrl,
  statusPullWindow,
  type StatusPullSettings,
  type StatusPullWindow,
} from './status-pull.js';
export { postbackBody } from './postback.js';
export {
  readRoutingRecord,
  ROUTING_RECORD_VERSION,
  type PartnerDecisionEntry,
  type PingEntry,
  type RoutingRecord,
} from './routing-record.js';
