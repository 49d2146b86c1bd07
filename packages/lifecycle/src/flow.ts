import {
  sqlPool,
  sqlTransaction,
  type Db,
  type PartnerRow,
  type SqlTransactionOptions,
  type SqlTx,
} from '@leadrouter/db';
import type { AttemptResult, ExchangeResult, OutgoingRequest } from '@leadrouter/delivery';
import type { WorkerMetrics } from '@leadrouter/metrics';
import type { DeliverJob, PostbackJob, Queues, SharedCaches } from '@leadrouter/queue';
import type { PingEntry } from '@leadrouter/core';

/** The log lines the lead's use cases write (a pino logger, a child per job in the worker). */
export interface FlowLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * What the lead's use cases (route a lead, attempt a delivery, send a
 * postback, sweep) need, built by their adapter (the worker's processors) for
 * each job: the database, the queues, the clock and randomness, and the ports
 * of what happens outside PostgreSQL and the queues.
 */
export interface LeadFlowDeps {
  db: Db;
  queues: Queues;
  log: FlowLog;
  now: () => Date;
  random: () => number;
  /** The routing rules cache, dropped on every worker when a route or partner changes (ADR 0009). */
  caches?: SharedCaches;
  metrics?: Pick<
    WorkerMetrics,
    'deliveryAttempts' | 'deliveryDuration' | 'leadsRouted' | 'postbacks' | 'partnerPauses' | 'pings' | 'pingDuration'
  >;
  /** The next round-robin position of a route, shared by every worker (a Redis counter). */
  nextRotation(routeId: string): Promise<number>;
  /** A slot of the partner's concurrency across every worker: its release, or null when the partner is at its limit. */
  acquirePartnerSlot(
    partnerId: string,
    limit: number | null,
    requestTimeoutMs: number,
  ): Promise<(() => Promise<void>) | null>;
  /** Sends one request to a partner or a source (packages/delivery's `send`, with the process's outbound agents). */
  send(request: OutgoingRequest): Promise<AttemptResult>;
  /** Sends one ping (packages/delivery's `exchange` with the process's outbound agents, its answer read up to `PING_READ_LIMIT_BYTES`). */
  ping(request: OutgoingRequest): Promise<ExchangeResult>;
  /** Where every ping's answers are recorded for stats (in bulk, ADR 0032); none: not recorded. */
  pingLog?: AuctionLog;
  /**
   * Runs the transactions of a lead's routing and of its attempts' records, sharing one PostgreSQL transaction
   * and commit with other leads' that run at the same time (`SqlTransactionGroups`, ADR 0038); none: each alone.
   */
  transactions?: LeadTransactions;
}

/** Group commit of leads' transactions (packages/db's `SqlTransactionGroups`). */
export interface LeadTransactions {
  run<T>(key: string, work: (tx: SqlTx) => Promise<T>, options?: SqlTransactionOptions): Promise<T>;
}

/**
 * A transaction of one lead's (its row lock taken first): shared with other leads' when the deps group them
 * (`transactions`), else alone. `work` may run more than once (a shared transaction abandoned): it must leave
 * nothing outside PostgreSQL behind that a second run would get wrong.
 */
export function leadTransaction<T>(
  deps: Pick<LeadFlowDeps, 'db' | 'transactions'>,
  leadId: string,
  work: (tx: SqlTx) => Promise<T>,
  options?: SqlTransactionOptions,
): Promise<T> {
  return deps.transactions
    ? deps.transactions.run(leadId, work, options)
    : sqlTransaction(sqlPool(deps.db), work, options);
}

/** One auction as the stats record it (ADR 0032): a source's ping, or the auction of a lead posted without one. */
export interface LoggedAuction {
  /** The source's ping's id, or the lead's for its own auction. */
  pingId: string;
  sourceId: string;
  routeId: string | null;
  pings: PingEntry[];
  ranked: { partnerId: string; bid: string }[];
  /** What the source was told it would be paid (a source's ping with a bid only). */
  sourceBid?: string | undefined;
  /** The ping's (or the lead's) geo and channel, for the reports' groupings; absent: none. */
  values?: { geo?: string | null | undefined; source?: string | null | undefined };
}

/** Where auctions are recorded for stats (packages/lifecycle's `PingLog`, in bulk). */
export interface AuctionLog {
  /** `sourcePing`: a source's ping (its own row besides its buyers' answers). */
  add(auction: LoggedAuction, at: Date, sourcePing: boolean): void;
}

/** What to enqueue once the transaction that decided it has committed. */
export interface Followups {
  deliveries: DeliverJob[];
  postbacks: PostbackJob[];
  /** Each new delivery, by id: its partner as read when it was offered the lead, when, and what it reserved. */
  offers?: ReadonlyMap<string, OfferedDelivery>;
  /** The lead, when the transaction settled it in a final status: announced to waiting sources (ADR 0033). */
  settled?: string;
}

/**
 * A delivery just created: its partner as the offer read it, its creation time, its reservation (text, or
 * null), and until when its first attempt is leased to its creator (null: not leased, `attemptAtOnce`).
 */
export interface OfferedDelivery {
  partner: PartnerRow;
  createdAt: Date;
  capAmount: string | null;
  leasedUntil: Date | null;
}

export const NOTHING: Followups = { deliveries: [], postbacks: [] };

/**
 * Enqueues what a committed transaction decided. If Redis fails here the
 * deliveries and postbacks stay pending in PostgreSQL and the sweeper
 * enqueues them.
 */
export async function enqueueFollowups(deps: Pick<LeadFlowDeps, 'queues'>, next: Followups): Promise<void> {
  announceSettled(deps, next);
  await enqueueDeliveries(deps, next.deliveries);
  for (const job of next.postbacks) await deps.queues.enqueuePostback(job);
}

/** Tells the ingests that a committed transaction settled the lead (`Prefer: wait`, ADR 0033); sent, not awaited. */
export function announceSettled(deps: Pick<LeadFlowDeps, 'queues'>, next: Followups): void {
  if (next.settled) deps.queues.announceOutcomes([next.settled]);
}

export async function enqueueDeliveries(
  deps: Pick<LeadFlowDeps, 'queues'>,
  jobs: DeliverJob[],
  delayMs = 0,
): Promise<void> {
  // If Redis fails here the deliveries stay pending in PostgreSQL and the sweeper enqueues them.
  for (const job of jobs) await deps.queues.enqueueDelivery(job, delayMs);
}
