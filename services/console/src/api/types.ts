/**
 * The admin API's answers, as the console reads them: the types of @leadrouter/api's schemas, the very ones the
 * ingest's handlers answer with and the OpenAPI document shows (ADR 0019). Imported as types only: nothing of
 * the API's packages goes into the bundle.
 */
import type {
  BulkRetryResult,
  DeadLetter as DeadLetterSchema,
  DryRun,
  LeadDetail as LeadDetailSchema,
  LeadListItem as LeadListItemSchema,
  Partner as PartnerSchema,
  PartnerHealth as PartnerHealthSchema,
  PartnerTestReport as PartnerTestReportSchema,
  QueueDepths as QueueDepthsSchema,
  Report as ReportSchema,
  Return as ReturnSchema,
  RetryResult,
  Route as RouteSchema,
  Source as SourceSchema,
  SourceCreated,
  SourceKeyRotated,
  Stats as StatsSchema,
  Timeline as TimelineSchema,
} from '@leadrouter/api';
import type {
  LeadStatus,
  PayoutModel,
  PingEntry,
  ReportKey,
  RoutingRecord as StoredRoutingRecord,
  Static,
} from '@leadrouter/core';

export type { Page } from '@leadrouter/api';
export type { LeadStatus, ReportKey };

/** The statuses the console counts and filters by: every status, in the order of the lead's life. */
export const LEAD_STATUSES = [
  'queued',
  'routing',
  'delivered',
  'unsold',
  'unmatched',
  'dead_lettered',
  'converted',
  'returned',
] as const satisfies readonly LeadStatus[];
// A status added to the API and not to the list above fails the build here (type-only: nothing in the bundle).
type Holds<T extends true> = T;
export type EveryStatusListed = Holds<
  [Exclude<LeadStatus, (typeof LEAD_STATUSES)[number]>] extends [never] ? true : false
>;

export type Stats = Static<typeof StatsSchema>;
export type Timeline = Static<typeof TimelineSchema>;
export type QueueDepths = Static<typeof QueueDepthsSchema>;
export type Source = Static<typeof SourceSchema>;
/** A source with its API key: just created (with its postback secret too), or its key rotated. */
export type SourceWithKey = Static<typeof SourceKeyRotated> &
  Partial<Pick<Static<typeof SourceCreated>, 'postbackSecret'>>;
export type Partner = Static<typeof PartnerSchema>;
export type PartnerHealth = Static<typeof PartnerHealthSchema>;
export type PartnerTestReport = Static<typeof PartnerTestReportSchema>;
export type Route = Static<typeof RouteSchema>;
export type DryRunAnswer = Static<typeof DryRun>;
export type LeadListItem = Static<typeof LeadListItemSchema>;

/**
 * A lead's routing record as the console reads it: packages/core's one definition (a type-only import), every
 * field possibly absent, because the API answers the record as stored, readable or not (ADR 0021) — one of a
 * newer version may lack what this version writes.
 */
export type RoutingRecord = Partial<StoredRoutingRecord>;
/** One ping of an auction as the routing record keeps it (its bid exact decimal text). */
export type AuctionPing = PingEntry;
export type LeadDetail = Omit<Static<typeof LeadDetailSchema>, 'routing'> & { routing: RoutingRecord | null };
export type DeadLetter = Static<typeof DeadLetterSchema>;
/** POST /v1/admin/dead-letters/{id}/retry. */
export type RetryAnswer = Static<typeof RetryResult>;
/** POST /v1/admin/dead-letters/retry. */
export type BulkRetryAnswer = Static<typeof BulkRetryResult>;

/** A return in the queue (GET /v1/admin/returns), approved, rejected or filed from a lead. */
export type Return = Static<typeof ReturnSchema>;
export type ReturnStatus = Return['status'];
export type Report = Static<typeof ReportSchema>;
export type ReportItem = Report['items'][number];

/** The keys a report may be grouped by, in the API's order (type-checked against the API's list). */
export const REPORT_KEYS = [
  'day',
  'hour',
  'source',
  'partner',
  'geo',
  'channel',
] as const satisfies readonly ReportKey[];
export type EveryReportKeyListed = Holds<
  [Exclude<ReportKey, (typeof REPORT_KEYS)[number]>] extends [never] ? true : false
>;
export const PAYOUT_MODELS = ['cpl', 'cpa', 'revshare'] as const satisfies readonly PayoutModel[];
export type EveryPayoutModelListed = Holds<
  [Exclude<PayoutModel, (typeof PAYOUT_MODELS)[number]>] extends [never] ? true : false
>;
