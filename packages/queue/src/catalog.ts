import type { JobsOptions } from 'bullmq';

/**
 * The job catalog, shared by producers (ingest, sweeper, admin) and consumers
 * (worker): queue name -> payload -> options, in one place.
 *
 * Queue and job names are part of the data in Redis: renaming one strands the
 * jobs already waiting under the old name. Change them only with a plan that
 * drains the old queue first. In Redis each queue is split into sub-queues
 * (QUEUE_PARTITIONS), named by `subQueueName` (layout.ts, ADR 0024).
 *
 * Jobs carry ids, never people: the lead and its personal data stay in PostgreSQL.
 */
export const QUEUES = {
  /** Route a lead: pick partners and create its deliveries. */
  route: 'route',
  /** One attempt of one delivery (lead x partner). */
  deliver: 'deliver',
  /** One attempt of one postback (a lead's final status, to its source). */
  postback: 'postback',
} as const;

/** A BullMQ queue of the catalog. */
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/**
 * Sources' pings to answer: the auction of the route the lead would match (ADR 0032). Not a BullMQ queue: a plain
 * Redis list per sub-queue (`PingLists`, ADR 0032 "Pings off BullMQ"), split and hash-tagged like the queues
 * (ADR 0024), with workers of its own, so pings are never behind leads' routing and deliveries.
 */
export const PING_QUEUE = 'ping';

/** What is split into hash-tagged sub-queues (ADR 0024): the BullMQ queues and the pings' lists. */
export type PartitionedName = QueueName | typeof PING_QUEUE;

export interface RouteJob {
  leadId: string;
}

export interface DeliverJob {
  deliveryId: string;
  /** The attempt this job makes (1-based); a job for a stale attempt does nothing. */
  attempt: number;
  /** Since when (epoch ms) this attempt has been waiting for a free slot of its partner, once it has. */
  busySince?: number;
}

export interface PostbackJob {
  postbackId: string;
  /** The attempt this job makes (1-based); a job for a stale attempt does nothing. */
  attempt: number;
}

/**
 * A source's ping (README "Ping then post (for sources)"): the lead's values without contact data (never a name, phone or email),
 * who sent it, and the times that bound its answer.
 */
export interface PingJob {
  pingId: string;
  sourceId: string;
  /** Epoch ms the ingest received it: the auction's deadline counts from there. */
  receivedAt: number;
  /** Epoch ms after which a post against it is refused (`ping_expired`). */
  expiresAt: number;
  /**
   * Epoch ms after which the ingest no longer waits for the worker's answer (it answers no bid itself): a ping
   * taken from its list at or after it is dropped, not auctioned.
   */
  answerBy: number;
  /**
   * The channel of the ingest waiting for the answer (`PingReplies`), which the worker replies on; absent (an
   * ingest built without one): the answer is announced on the outcomes channel.
   */
  replyTo?: string;
  /** packages/core's `PingValues` (this package does not depend on core). */
  values: {
    geo: string | null;
    source: string | null;
    fields: Record<string, string | number | boolean>;
    consent: { tcpa?: boolean; certificateUrl?: string } | null;
  };
}

export interface JobPayloads {
  route: RouteJob;
  deliver: DeliverJob;
  postback: PostbackJob;
}

/** Job ids make enqueueing idempotent: adding a job whose id exists is a no-op. */
export const jobIds = {
  route: (leadId: string): string => leadId,
  deliver: (deliveryId: string, attempt: number): string => `${deliveryId}-a${attempt}`,
  postback: (postbackId: string, attempt: number): string => `${postbackId}-p${attempt}`,
};

const keepFailed = { age: 7 * 24 * 3600, count: 5000 };

/**
 * Completed jobs are removed at once: PostgreSQL holds the history, and a
 * re-added job id must be able to run again (the sweeper relies on it).
 * Failed jobs are kept a week for the dashboard.
 */
export const jobOptions: Record<QueueName, JobsOptions> = {
  route: {
    attempts: 10,
    backoff: { type: 'exponential', delay: 1000 },
    removeOnComplete: true,
    removeOnFail: keepFailed,
  },
  deliver: {
    // Delivery retries are scheduled by the processor as new delayed jobs with
    // the partner's own backoff; BullMQ's attempts only cover infrastructure
    // errors (database down) inside the processor.
    attempts: 5,
    backoff: { type: 'exponential', delay: 2000 },
    removeOnComplete: true,
    removeOnFail: keepFailed,
  },
  postback: {
    // Like deliveries: retries are the processor's own delayed jobs.
    attempts: 5,
    backoff: { type: 'exponential', delay: 2000 },
    removeOnComplete: true,
    removeOnFail: keepFailed,
  },
};
