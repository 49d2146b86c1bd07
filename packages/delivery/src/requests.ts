/**
 * Everything of the delivery package but the HTTP client: building a partner's
 * request, reading its answer, classifying an outcome, signing, the address
 * rules. The lifecycle imports this entry so that a process that never sends
 * (an ingest serving sources) does not load got and its dependencies at start
 * (ADR 0009); `@leadrouter/delivery` is this plus `send`.
 */
export { type PublicLead } from './payload.js';
export { backoffDelay, classify, type AcceptWhen, type AttemptResult, type Classification } from './classify.js';
export { buildRequest } from './request.js';
export { excerpt, readPartnerAnswer, type PartnerAnswer, type ResponseMap } from './answer.js';
export { createAgents, destroyAgents, type DeliveryAgents } from './agents.js';
export { signatureHeaders } from './signing.js';
export {
  readStatusPullPage,
  STATUS_PULL_MAX_BYTES,
  STATUS_PULL_MAX_ITEMS,
  statusPullRequest,
  type StatusPullPage,
} from './status-pull.js';
export {
  PING_READ_LIMIT_BYTES,
  pingLead,
  pingPayload,
  pingRequest,
  readPingAnswer,
  type PingAnswer,
  type PingLead,
} from './ping.js';
