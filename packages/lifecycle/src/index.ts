export {
  decideFinalStatus,
  decideOffers,
  type DeliveryCount,
  type FinalStatusDecision,
  type OfferDecision,
} from './decide/advance.js';
export { decideAttempt, type AttemptDecision, type AttemptInput, type RetryPolicy } from './decide/attempt.js';
export { decideBreaker, type BreakerDecision } from './decide/breaker.js';
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
export {
  DEFAULT_PAUSE_REASON,
  listPartners,
  partnerStatus,
  pausePartner,
  requeueParked,
  resumePartner,
  type CacheInvalidation,
  type PartnerDeps,
  type PartnerSummary,
} from './partners.js';
export { rotateSourceKey } from './sources.js';
