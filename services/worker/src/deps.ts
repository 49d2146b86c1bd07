import type { Logger, WorkerConfig } from '@leadrouter/config';
import type { Db } from '@leadrouter/db';
import type { LeadTransactions, PingLog } from '@leadrouter/lifecycle/worker';
import type { DeliveryAgents } from '@leadrouter/delivery';
import type { WorkerMetrics } from '@leadrouter/metrics';
import type { Queues, SharedCaches } from '@leadrouter/queue';
import type { RedisClient } from '@leadrouter/queue';

/** Everything the worker's processors need, built once in main.ts (or by a test). */
export interface WorkerDeps {
  config: WorkerConfig;
  db: Db;
  /** Commands (counters, locks); BullMQ workers get their own connections. */
  redis: RedisClient;
  queues: Queues;
  log: Logger;
  now: () => Date;
  random: () => number;
  /** Outbound agents with the destination policy (`createAgents`); without them `send()` refuses private destinations. */
  agents?: DeliveryAgents;
  /** This process's metrics (optional in tests). */
  metrics?: WorkerMetrics;
  /** The routing rules cache, dropped on every worker when a route or partner changes (ADR 0009); without it every lead reads PostgreSQL. */
  caches?: SharedCaches;
  /** Where auctions are recorded for stats (ADR 0032): made by `startWorker`. */
  pingLog?: PingLog;
  /** Group commit of the leads' transactions (routing, attempts' records; ADR 0038): made by `startWorker`. */
  transactions?: LeadTransactions;
}
