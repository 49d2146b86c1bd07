import type { IngestConfig, Logger } from '@leadrouter/config';
import type { Db } from '@leadrouter/db';
import type { DeliveryAgents } from '@leadrouter/delivery';
import type { IngestMetrics } from '@leadrouter/metrics';
import type { PingBinding } from '@leadrouter/lifecycle';
import type { OutcomeWaiters, PingBindings, PingReplies, Queues, SharedCaches } from '@leadrouter/queue';
import type { AuthFailureLimits } from './http/auth-failures.js';
import type { SourceRateLimits } from './http/rate-limit.js';
import type { SignInThrottle } from './http/sign-in-throttle.js';
import type { RejectionLog } from './leads/rejections.js';

/** What the ingest app needs, built once in main.ts (or by a test). */
export interface IngestDeps {
  config: IngestConfig;
  db: Db;
  queues: Queues;
  log: Logger;
  rateLimits: SourceRateLimits;
  /**
   * Outbound agents with the destination policy (`createAgents`), for partner tests, or a function that makes
   * them when the first test needs them (main.ts, so that the delivery package is not loaded at start);
   * without them private destinations are refused.
   */
  agents?: DeliveryAgents | (() => Promise<DeliveryAgents>);
  /** This process's metrics; createApp makes a registry without process metrics when none is given (tests). */
  metrics?: IngestMetrics;
  /** Caches of source keys, dropped on every replica when a source changes (ADR 0009); without them every request reads PostgreSQL. */
  caches?: SharedCaches;
  /** This process's subscription to the leads' outcomes, for requests sent with `Prefer: wait` (ADR 0033); without it they are answered as without. */
  outcomes?: OutcomeWaiters;
  /** Sources' pings' bindings in Redis (ADR 0032); without them `POST /v1/pings` and posts with a `pingId` are a 503. */
  pings?: PingBindings<PingBinding>;
  /** This process's channel for its pings' answers (ADR 0032); without it a ping's binding is looked at at its deadline. */
  pingReplies?: PingReplies;
  /** Failed console sign-ins per client address, shared through Redis (main.ts); in this process's memory when absent. */
  signInThrottle?: SignInThrottle;
  /** Where rejections are written (ADR 0014); createApp makes one when none is given (its sums are then written every minute, and lost at exit). */
  rejections?: RejectionLog;
  /** The per-address throttle of requests without a valid key (ADR 0014); createApp makes one in this process's memory when none is given. */
  authFailures?: AuthFailureLimits;
}

/** What createApp hands its routers: the dependencies with the defaults it filled in. */
export type AppDeps = IngestDeps & Required<Pick<IngestDeps, 'metrics' | 'rejections' | 'authFailures'>>;
