import { sendPostback as send, type PostbackStepResult } from '@leadrouter/lifecycle/worker';
import type { PostbackJob } from '@leadrouter/queue';
import type { WorkerDeps } from './deps.js';
import { leadFlowDeps } from './flow-deps.js';

/** The `postback` job: packages/lifecycle's `sendPostback`. */
export function sendPostback(deps: WorkerDeps, job: PostbackJob): Promise<PostbackStepResult> {
  return send(leadFlowDeps(deps), job);
}
