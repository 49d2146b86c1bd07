export {
  type Answer,
  type Input,
  type Party,
  type QueryOf,
  type Reply,
  type RouteSpec,
  type TextReply,
} from './table.js';
export { componentSchemas } from './components.js';
export {
  DEFAULT_LIMIT,
  MAX_CURSOR,
  MAX_LIMIT,
  decodeCursor,
  encodeCursor,
  pageOf,
  pageParameters,
  type Cursor,
  type Page,
} from './pagination.js';
export {
  DRY_RUN_DEFAULT_LEADS,
  DryRunRequest,
  type DraftRoute,
  type DryRunBody,
  type PartnerInput,
  type RouteInput,
} from './bodies.js';
export {
  Partner,
  PartnerHealth,
  PartnerTestReport,
  Route,
  Session,
  Source,
  SourceCreated,
  SourceKeyRotated,
  PingView,
  StatusPullView,
} from './answers.js';
export {
  BulkRetryResult,
  DEAD_LETTER_STATUSES,
  DeadLetter,
  DryRun,
  LeadDetail,
  LeadListItem,
  QueueDepths,
  RetryResult,
  SKIP_REASONS,
  Stats,
  Timeline,
} from './answers-operations.js';
export {
  LeadOutcome,
  PingAnswer,
  LeadSourceView,
  LeadView,
  MAX_IDEMPOTENCY_KEY,
  MAX_WAIT_SECONDS,
  OUTCOME_REASONS,
} from './answers-leads.js';
export { PayoutInput } from './amounts.js';
export {
  FEEDBACK_OUTCOMES,
  FeedbackEvent,
  LedgerEntry,
  MAX_FEEDBACK_BATCH,
  Return,
  ReturnPage,
} from './answers-money.js';
export { Report, ReportItem } from './answers-reports.js';
export { documented, pathsOf } from './openapi.js';
export { ROUTES, admin, consoleSession, leads, money, operations, reports } from './routes.js';
export { EXAMPLE_ID } from './examples.js';
