import { answerPing as answer, PingLog, type PingBinding } from '@leadrouter/lifecycle';
import { PingBindings, type PingJob } from '@leadrouter/queue';
import type { WorkerDeps } from './deps.js';
import { leadFlowDeps } from './flow-deps.js';

/** What the `ping` jobs of one worker process share: the pings' bindings in Redis and the stats' bulk writer. */
export interface PingRuntime {
  bindings: PingBindings<PingBinding>;
  log: PingLog;
}

export function pingRuntime(deps: WorkerDeps): PingRuntime {
  return { bindings: new PingBindings(deps.redis, deps.config.QUEUE_PREFIX), log: new PingLog(deps.db, deps.log) };
}

/** The `ping` job: packages/lifecycle's `answerPing` (the auction, the binding, the answer's announcement). */
export async function answerPing(deps: WorkerDeps, runtime: PingRuntime, job: PingJob): Promise<void> {
  await answer({ ...leadFlowDeps(deps), bindings: runtime.bindings }, job);
}
