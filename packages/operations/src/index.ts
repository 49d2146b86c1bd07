export type { Page } from './cursor.js';
export type { RawParams } from './params.js';
export { ParamReader } from './params.js';
export { findPartner, findSource, type Named } from './refs.js';
export {
  DEAD_LETTER_STATUSES,
  discardDeadLetter,
  discardDeadLetters,
  listDeadLetters,
  parseDeadLetterQuery,
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
  type RequeueSkipReason,
  type RetryProgress,
  type RetryResult,
} from './dead-letters.js';
export {
  leadDetail,
  parseLeadSearch,
  searchLeads,
  type LeadDetail,
  type LeadListItem,
  type LeadSearch,
} from './leads.js';
export { dryRun, parseDryRun, type DryRunAnswer, type DryRunLead, type DryRunRequest } from './dry-run.js';
export { partnerHealth, type PartnerHealth } from './partner-health.js';
