export { AppError, conflict, invalid, notFound, unauthorized, unavailable, type FieldError } from './errors.js';
export { ajv, compile, toFieldErrors, unstorableStrings } from './validation.js';
export { storableText, type TextLimit } from './storable.js';
export {
  EXAMPLE_LEAD,
  LeadSchema,
  normalisePhone,
  readLeadPath,
  validateLead,
  type LeadFields,
  type LeadInput,
  type LeadValidation,
  type NormalisedLead,
  type PublicLead,
} from './lead.js';
export {
  ATTEMPT_OUTCOMES,
  DELIVERY_STATUSES,
  LEAD_STATUSES,
  PARTNER_DECISIONS,
  POSTBACK_STATUSES,
  ROUTE_OUTCOMES,
  ROUTE_STRATEGIES,
  TERMINAL_STATUSES,
  PAYOUT_MODELS,
  LEDGER_PARTIES,
  LEDGER_KINDS,
  FEEDBACK_EVENT_KINDS,
  FEEDBACK_VIA,
  RETURN_STATUSES,
  CAP_PERIODS,
  type PayoutModel,
  type LedgerParty,
  type LedgerKind,
  type FeedbackEventKind,
  type FeedbackVia,
  type ReturnStatus,
  type CapPeriod,
  type AttemptOutcome,
  type DeliveryStatus,
  type LeadStatus,
  type PartnerDecision,
  type PostbackStatus,
  type RouteOutcome,
  type RouteStrategy,
  type TerminalStatus,
} from './states.js';
export { maskEmail, maskPhone } from './mask.js';
export { apiKeyPrefix, generateApiKey, generateSigningSecret, hashApiKey } from './keys.js';
export { isUuid, UUID_PATTERN, UUID_RE } from './ids.js';
export {
  Closed,
  Const,
  DateTime,
  Dict,
  Json,
  Nullable,
  OneOf,
  Scalar,
  Type,
  Uuid,
  type Static,
  type TSchema,
  type TUnsafe,
} from './schema.js';
export {
  FieldConditionSchema,
  FILTER_OPS,
  FiltersSchema,
  isValidTimezone,
  NullableFilters,
  partnerHeaderProblems,
  PartnerHeadersSchema,
  RESERVED_HEADERS,
  ScheduleSchema,
  type FieldCondition,
  type FilterOp,
  type Filters,
  type Schedule,
} from './rules.js';
export { postbackBody, type PostbackBody } from './postback.js';
export {
  readRoutingRecord,
  ROUTING_RECORD_VERSION,
  routingRecordSchema,
  type PartnerDecisionEntry,
  type RoutingRecord,
  type RoutingRecordRead,
} from './routing-record.js';
export { compileRegex, REGEX_MAX_LENGTH, REGEX_MAX_PROGRAM, regexErrors, type CompiledRegex } from './regex.js';
