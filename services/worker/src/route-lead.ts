import { routeLead as route } from '@leadrouter/lifecycle/worker';
import type { WorkerDeps } from './deps.js';
import { leadFlowDeps } from './flow-deps.js';

/** The `route` job: packages/lifecycle's `routeLead`, which also makes the lead's first attempts. */
export function routeLead(deps: WorkerDeps, leadId: string): Promise<void> {
  return route(leadFlowDeps(deps), leadId);
}
