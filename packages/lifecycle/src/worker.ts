/**
 * `@leadrouter/lifecycle/worker`: the use cases the worker runs — route a lead, attempt a delivery, send a
 * postback, answer a ping, sweep, pull partners' statuses, the housekeeping — without the operator actions, the
 * reports and the feedback body's checks, which the package's entry (index.ts) loads too, and with them
 * @leadrouter/api's schemas (typebox: about 16 MB of the worker's peak RSS, docs/performance.md, "typebox out of
 * the worker"). These modules import core's values from `@leadrouter/core/runtime` and nothing of @leadrouter/api
 * but types; test/ops/worker-modules.test.ts fails if the worker loads typebox.
 */
export { pruneIdempotencyKeys } from './accept-leads.js';
export { attemptDelivery, busyDelayMs, type DeliveryStepResult } from './attempt-delivery.js';
export { readCapUsage } from './caps.js';
export { eraseExpiredPersonalData, pruneErasedContacts } from './erasure.js';
export type { LeadFlowDeps, LeadTransactions } from './flow.js';
export { answerPing, PingLog, type PingBinding } from './ping.js';
export { sendPostback, type PostbackStepResult } from './postback.js';
export { routeLead } from './route-lead.js';
export { claimStatusPulls, runStatusPull, type ClaimedPull, type StatusPullDeps } from './status-pull.js';
export { sweep } from './sweep.js';
