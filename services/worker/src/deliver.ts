import { attemptDelivery, type DeliveryStepResult } from '@leadrouter/lifecycle/worker';
import type { DeliverJob } from '@leadrouter/queue';
import type { WorkerDeps } from './deps.js';
import { leadFlowDeps } from './flow-deps.js';

/**
 * The `deliver` job: packages/lifecycle's `attemptDelivery`. A `busy` answer
 * (the partner has no free slot) is the processor's to delay (worker.ts).
 */
export function deliverAttempt(deps: WorkerDeps, job: DeliverJob): Promise<DeliveryStepResult> {
  return attemptDelivery(leadFlowDeps(deps), job);
}
