import type { Db, PartnerRow } from '@leadrouter/db';
import type { AttemptResult, ExchangeResult, OutgoingRequest } from '@leadrouter/delivery';
import type { WorkerMetrics } from '@leadrouter/metrics';
import type { DeliverJob, PostbackJob, Queues, SharedCaches } from '@leadrouter/queue';

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

/** A delivery just created: its partner as the offer read it, its creation time, its reservation (text, or null). */
export interface OfferedDelivery {
  partner: PartnerRow;
  createdAt: Date;
  capAmount: string | null;
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
