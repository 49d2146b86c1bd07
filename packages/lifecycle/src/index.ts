export {
  decideFinalStatus,
  decideOffers,
  decideUnreadableRecord,
  type DeliveryCount,
  type FinalStatusDecision,
  type OfferDecision,
  type UnreadableRecordDecision,
} from './decide/advance.js';
export { decideAttempt, type AttemptDecision, type AttemptInput, type RetryPolicy } from './decide/attempt.js';
export { decideBreaker, type BreakerDecision } from './decide/breaker.js';
export { decidePostback, POSTBACK_POLICY, type PostbackDecision } from './decide/postback.js';
export {
  decideRequeues,
  REQUEUE_SKIP_REASONS,
  type RequeueCandidate,
  type RequeueDecision,
  type RequeueLead,
  type RequeueSkipReason,
} from './decide/requeue.js';
export { decideSupersede, saleLimit, type SupersedeDecision } from './decide/superseded.js';
export { routingRecordOf, skippedEntries } from './record.js';

// The lead's flow, used by the worker's processors: route a lead, attempt a delivery, send a postback, sweep.
export {
  enqueueDeliveries,
  enqueueFollowups,
  leadTransaction,
  NOTHING,
  type FlowLog,
  type Followups,
  type LeadFlowDeps,
  type LeadTransactions,
  type LoggedAuction,
} from './flow.js';
export { advanceAndCommit, settleUnreadable, type AdvanceOptions, type DeliveryState } from './advance.js';
export { answerPing, bidToSource, PingLog, type PingBinding, type PingDeps } from './ping.js';
export { routeLead, routingRules, RULES_CACHE_TTL_MS, type RoutingRules } from './route-lead.js';
export {
  attemptDelivery,
  BUSY_DELAY_MAX_MS,
  BUSY_DELAY_MS,
  busyDelayMs,
  commitDeliveryAccepted,
  deliverNow,
  IN_FLIGHT_RECHECK_MS,
  type AcceptedDelivery,
  type DeliveryStepResult,
  type InFlight,
  type LoadedDelivery,
} from './attempt-delivery.js';
export { ATTEMPT_LEASE_MARGIN_MS, attemptLeaseUntil } from './attempt-lease.js';
export { sendPostback, type PostbackStepResult } from './postback.js';

// Accepting leads, used by the ingest's lead API: the durable write and the group commit.
export {
  LeadRecorder,
  lockKeys,
  newLeadId,
  pruneIdempotencyKeys,
  type AcceptDeps,
  type AcceptingSource,
  type AcceptOutcome,
  type PingedLead,
} from './accept-leads.js';
export { PENDING_GRACE_MS, QUEUED_GRACE_MS, ROUTING_GRACE_MS, sweep, type SweepResult } from './sweep.js';
export {
  DEFAULT_PAUSE_REASON,
  listPartners,
  partnerStatus,
  pausePartner,
  requeueParked,
  resumePartner,
  rotatePartnerFeedbackKey,
  type CacheInvalidation,
  type PartnerDeps,
  type PartnerSummary,
} from './partners.js';
export { rotateSourceKey } from './sources.js';

// Operator actions shared by the admin API and the CLI: dead letters, lead search, dry runs, partner health.
export type { Page } from './cursor.js';
export type { RawParams } from './params.js';
export { cursorOf, instantOf, listOf, readParams } from './params.js';
export { findPartner, findSource, type Named } from './refs.js';
export {
  DEAD_LETTER_STATUSES,
  discardDeadLetter,
  discardDeadLetters,
  listDeadLetters,
  parseDeadLetterQuery,
  readDeadLetterQuery,
  type DeadLetterParams,
  parseDiscardSelection,
  parseRetrySelection,
  retryDeadLetter,
  retryDeadLetters,
  SKIP_REASONS,
  type BulkDiscardResult,
  type BulkProgress,
  type BulkRetryResult,
  type DeadLetterQuery,
  type DeadLetterSelection,
  type DeadLetterStatus,
  type DeadLetterView,
  type DiscardProgress,
  type DiscardResult,
  type OperationsDeps,
  type RetryProgress,
  type RetryResult,
} from './dead-letters.js';
export {
  leadDetail,
  parseLeadSearch,
  readLeadSearch,
  type LeadSearchParams,
  searchLeads,
  type LeadDetail,
  type LeadListItem,
  type LeadSearch,
} from './leads.js';
export { dryRun, parseDryRun, type DryRunAnswer, type DryRunLead, type DryRunRequest } from './dry-run.js';
export { partnerHealth, type PartnerHealth } from './partner-health.js';
export { adminStats, readStatsSince, type StatsView } from './stats.js';
export {
  capLockKey,
  capsInUseViews,
  capsOf,
  readCapUsage,
  resetCapCounters,
  type CapsInUseView,
  type CapState,
} from './caps.js';

// Money (ADR 0023, 0026): the ledger's use cases, partner feedback, returns.
export {
  decideFeedback,
  feedbackTime,
  moneyStatus,
  type FeedbackDecision,
  type FeedbackEffect,
  type FeedbackFacts,
  type FeedbackOutcome,
  type FeedbackTerms,
  type SaleFacts,
} from './decide/feedback.js';
export {
  addAdjustment,
  adjustmentId,
  entryView,
  moneyView,
  payoutView,
  storedLines,
  type AdjustmentInput,
  type LedgerEntryView,
  type MoneyDeps,
  type MoneyView,
  type StoredLine,
} from './money.js';
export {
  feedbackPartnerOf,
  recordFeedback,
  recordFeedbackEvents,
  recordSaleFeedback,
  type FeedbackAnswer,
  type FeedbackInput,
  type FeedbackPartner,
  type FeedbackPartnerRow,
  type FeedbackResult,
} from './feedback.js';
export { parseFeedback, parseFeedbackEvent, type FeedbackParse } from './feedback-body.js';
export {
  approveReturn,
  fileReturn,
  listReturns,
  parseReturnQuery,
  readReturnQuery,
  type ReturnParams,
  rejectReturn,
  type ReturnQuery,
  type ReturnResult,
  type ReturnView,
} from './returns.js';

// Reports, shared by the admin API, the source's report and the CLI (ADR 0028).
export {
  adminReport,
  csvField,
  DEFAULT_REPORT_DAYS,
  parseReport,
  readReport,
  type ReportParams,
  reportColumns,
  reportCsv,
  reportFileName,
  sourceReport,
  type AdminReportItem,
  type LeadFigures,
  type ReportKeys,
  type ReportParty,
  type ReportQuery,
  type ReportView,
  type SourceReportItem,
} from './reports.js';

// Personal-data erasure (ADR 0031): an operator's, for the admin API and the CLI; the retention's, for the worker.
export { decideErasure, type ErasureDecision, type ErasureTarget } from './decide/erasure.js';
export {
  erasePersonalData,
  eraseExpiredPersonalData,
  ERASURE_REASON_MAX,
  PRUNE_BATCH,
  pruneErasedContacts,
  RETENTION_BATCH,
  RETENTION_MAX_BATCHES,
  type Erasure,
  type ErasureRequest,
  type RetentionRound,
} from './erasure.js';
export {
  claimStatusPulls,
  leaseSeconds,
  PULL_CHUNK,
  requestStatusPull,
  rescheduleStatusPull,
  runStatusPull,
  type ClaimedPull,
  type StatusPullDeps,
  type StatusPullOutcome,
} from './status-pull.js';
export {
  decidePageStep,
  emptyTally,
  pullOutcome,
  sameStatus,
  STATUS_PULL_MAX_PAGES,
  type PageStep,
  type PullTally,
} from './decide/status-pull.js';
