export {
  Prisma,
  closeDb,
  createDb,
  isDataError,
  isDatabaseUnavailable,
  sqlPool,
  type Db,
  type Partner,
  type Route,
  type RoutePartner,
  type Source,
  type SqlPool,
} from './client.js';
// Migrations, for the CLI, the quick start and the benchmark (scripts/*.js require them).
export {
  applyMigrations,
  ensureDatabase,
  MigrationError,
  type ApplyMigrationsOptions,
  type ApplyMigrationsResult,
  type MigrationErrorCode,
} from './migrate.js';
// The typed-SQL layer (ADR 0020): its whole surface, which the statements' inferred types name.
export {
  defineStatement,
  definedStatements,
  json,
  orderedValues,
  sql,
  SqlFragment,
  sqlTypeOf,
  sqlValue,
  typed,
  type ColumnValue,
  type ParamsOf,
  type ParamValue,
  type RowOf,
  type SqlType,
  type SqlTypeName,
  type SqlTypes,
  type Statement,
  type StatementParams,
  type StatementRow,
  type Typed,
} from './sql.js';
export { SqlTx, executeSql, inlineSql, prepareSql, runStatement, sqlTransaction, type SqlCall } from './statements.js';
export { SqlTransactionGroups, type GroupLimits } from './groups.js';
export type { SqlTransactionOptions } from './statements.js';
export { CREATE_SESSION, DELETE_SESSION, FIND_SESSION } from './tables/admin-sessions.js';
export { CAP_ADD, CAP_USAGE, DELETE_OLD_CAP_COUNTERS, LAST_SALE_PRICES, RESET_CAP_COUNTERS } from './tables/caps.js';
export {
  CLAIM_ATTEMPT,
  COUNT_DEAD_LETTERS,
  DEAD_LETTER_COUNT,
  DEAD_LETTER_PAGE,
  DELIVERIES_SINCE,
  DISCARD_DEAD_LETTERS,
  LEADS_OF_DELIVERIES,
  LEADS_WITH_DEAD_LETTERS,
  LEAD_DELIVERIES,
  LOAD_DELIVERY,
  LOCK_DELIVERIES,
  OVERDUE_DELIVERIES,
  PARK_DELIVERY,
  PARTNER_LAST_FAILURE,
  PARTNER_OUTCOMES,
  RECORD_ATTEMPT,
  RELEASE_ATTEMPT,
  REQUEUE_DEAD_LETTERS,
  SALES_OF_LEADS,
  SUPERSEDE,
  UNPARKED_DELIVERIES,
  UNPARK_RETRIES,
} from './tables/deliveries.js';
export {
  DECIDE_RETURN,
  FEEDBACK_PARTNER_BY_ID,
  FILE_RETURN,
  INSERT_FEEDBACK,
  LIST_RETURNS,
  PARTNER_BY_FEEDBACK_KEY,
  RETURN_BY_ID,
  SALES_BY_REFERENCE,
  SALES_FOR_PULL,
  SALE_BY_LEAD,
  SALE_STATE,
  SET_FEEDBACK_OUTCOME,
  SET_PARTNER_STATUS,
} from './tables/feedback.js';
export {
  DELETE_OLD_REJECTIONS,
  INSERT_REJECTION,
  INSERT_REJECTION_COUNTS,
  type RejectionErrors,
} from './tables/ingest-rejections.js';
export { INSERT_ENTRIES, LEAD_ENTRIES, LOCK_LEAD_MONEY } from './tables/ledger.js';
export {
  BACKFILL_LEAD_CREATED_AT,
  CREATE_TIME_PARTITIONS,
  DROP_TIME_PARTITIONS,
  HOUSEKEEPING_MARKS,
  MARK_HOUSEKEEPING_DONE,
} from './tables/partitions.js';
export {
  ACCEPT,
  ADD_LEAD_EVENTS,
  ADVANCE,
  DELETE_OLD_IDEMPOTENCY_KEYS,
  ERASE_PERSONAL_DATA,
  LATEST_KEPT_LEADS,
  LEADS_PAST_RETENTION,
  LEAD_BY_KEY,
  LEAD_OUTCOMES,
  LEAD_SEARCH,
  LEAD_SEARCH_BY_PARTNER,
  LEAD_TIMELINE,
  LEAD_VIEW,
  LOCK_KEYS,
  LOCK_LEAD,
  LOCK_LEADS,
  LOCK_LEAD_FOR_ERASURE,
  POSTED_SINCE,
  PRUNE_ERASED_CONTACTS,
  QUEUED_LEADS,
  RELEASE_KEY,
  REOPEN_LEADS,
  SET_MONEY_STATUS,
  SOURCE_LEAD_VIEW,
  STUCK_LEADS,
  acceptValues,
  type ErasureDetail,
} from './tables/leads.js';
export {
  CAPPED_PARTNERS,
  CLAIM_STATUS_PULLS,
  CLEAR_FAILURES,
  COUNT_FAILURE,
  COUNT_PAUSED_PARTNERS,
  FINISH_STATUS_PULL,
  PARTNER_HEALTH_ROW,
  PARTNER_ROWS,
  PAUSE_PARTNER,
  RELEASE_STATUS_PULL,
  RENEW_STATUS_PULL,
  REQUEST_STATUS_PULL,
  RESCHEDULE_STATUS_PULL,
  ROUTING_PARTNERS,
  STATUS_PULL_STATE,
  type PartnerCaps,
  type PartnerRow,
} from './tables/partners.js';
export {
  FAIL_POSTBACK_WITHOUT_URL,
  INSERT_EVENT_POSTBACK,
  LOAD_POSTBACK,
  OVERDUE_POSTBACKS,
  RECORD_POSTBACK_ATTEMPT,
} from './tables/postbacks.js';
export { READY } from './tables/readiness.js';
export {
  FOLD_REPORT_DELTAS,
  MONEY_SINCE,
  PARTNER_MONEY_SINCE,
  REPORT_TABLE_KEYS,
  reportStatement,
  type ReportRow,
  type ReportTable,
} from './tables/reports.js';
export { PARTNER_PINGS_SINCE, RECORD_PING_BIDS, RECORD_PINGS, SOURCE_PINGS_SINCE } from './tables/pings.js';
export { LONGEST_AUCTION, ROUTING_ROUTES } from './tables/routes.js';
export { ACTIVE_KEY_HASHES, SOURCE_BY_KEY_HASH, SOURCE_PAYOUT } from './tables/sources.js';
