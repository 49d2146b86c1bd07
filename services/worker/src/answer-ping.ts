import { redisTarget } from '@leadrouter/config';
import { answerPing as answer, PingLog, type PingBinding } from '@leadrouter/lifecycle/worker';
import { PingBindings, PingConsumer, PING_QUEUE, type PingJob } from '@leadrouter/queue';
import type { WorkerDeps } from './deps.js';
import { leadFlowDeps } from './flow-deps.js';

/** What the pings of one worker process share: the pings' bindings in Redis and the stats' bulk writer. */
export interface PingRuntime {
  bindings: PingBindings<PingBinding>;
  log: PingLog;
}

export function pingRuntime(deps: WorkerDeps): PingRuntime {
  return { bindings: new PingBindings(deps.redis, deps.config.QUEUE_PREFIX), log: new PingLog(deps.db, deps.log) };
}

/**
 * One source's ping: packages/lifecycle's `answerPing` (the auction, the binding, the answer on the ingest's
 * channel) — unless it was taken from its list at or after `answerBy`: the ingest has stopped waiting and answered
 * no bid itself, so it is dropped (no auction, no binding, no reply) and recorded in the stats as that no bid.
 */
export async function answerPing(deps: WorkerDeps, runtime: PingRuntime, job: PingJob): Promise<void> {
  if (Date.now() >= job.answerBy) {
    deps.log.info(
      { pingId: job.pingId },
      'ping taken after the ingest’s deadline: dropped (the source was told no bid)',
    );
    const { pingId, sourceId, values } = job;
    const noBid = { pingId, sourceId, routeId: null, values, pings: [], ranked: [], lost: [] };
    runtime.log.add(noBid, new Date(job.receivedAt), true);
    return;
  }
  await answer({ ...leadFlowDeps(deps), bindings: runtime.bindings }, job);
}

/**
 * Answers the sources' pings of every list of this layout (`PingConsumer`, ADR 0032 "Pings off BullMQ"), up to
 * PING_CONCURRENCY at once per list; each ping's log lines carry its id and list.
 */
export function startAnsweringPings(deps: WorkerDeps, runtime: PingRuntime): PingConsumer {
  const { config, log } = deps;
  return new PingConsumer({
    target: redisTarget(config),
    prefix: config.QUEUE_PREFIX,
    partitions: config.QUEUE_PARTITIONS,
    concurrency: config.PING_CONCURRENCY,
    log,
    handle: (job, list) =>
      answerPing({ ...deps, log: log.child({ pingId: job.pingId, queue: PING_QUEUE, list }) }, runtime, job),
  });
}
