import { randomUUID } from 'node:crypto';
import type { PingAnswer } from '@leadrouter/api';
import {
  AppError,
  AUCTION_DEFAULTS,
  invalid,
  notFound,
  unavailable,
  validatePing,
  type NormalisedLead,
  type PingValues,
} from '@leadrouter/core';
import { LONGEST_AUCTION, runStatement, sqlPool } from '@leadrouter/db';
import { newLeadId, type PingBinding, type PingedLead } from '@leadrouter/lifecycle';
import { amount, amountNumber } from '@leadrouter/money';
import { keptUntil, type ExpectedReply, type PingReply, type PingState } from '@leadrouter/queue';
import type { AppDeps } from '../deps.js';
import type { PostingSource } from '../http/auth.js';

/** What the answer may take beyond the route's auction deadline (README "Ping then post (for sources)"). */
export const ANSWER_SLACK_MS = 100;
/** Of that slack, what is kept for the ingest's own no-bid binding and the answer, when the worker is late. */
const OWN_MARGIN_MS = 20;
/** How long the longest auction deadline is used without asking PostgreSQL again (route writes drop it). */
const DEADLINE_CACHE_TTL_MS = 5_000;

/** Validates a ping's body; throws a 422 listing every problem (contact data first). */
export function checkPing(body: unknown): PingValues {
  const v = validatePing(body);
  if (!v.ok) throw invalid(v.errors);
  return v.values;
}

/** While this process's reply subscription is down (Redis away), how often a waiting ping looks at its binding. */
const POLL_WHILE_DOWN_MS = 100;

/**
 * Answers a source's ping (`POST /v1/pings`, ADR 0032). The ingest stays thin: it pushes the ping onto one of the
 * worker's pings' lists (one `LPUSH`; the auction runs there, its deadline counted from now; a ping the worker takes
 * after `answerBy`, this request's own deadline, is dropped), naming its own reply channel
 * (`PingReplies`), on which the worker sends the answer it bound. It waits up to the longest auction deadline of
 * the active auction routes plus ANSWER_SLACK_MS (the ingest cannot know the route without routing the lead); the
 * worker of a route with a shorter deadline answers sooner. No answer by then: the ingest binds `no_bid` itself
 * (only if the worker has not just bound its answer: the first binding wins) and answers it.
 */
export async function answerPing(deps: AppDeps, source: PostingSource, values: PingValues): Promise<PingAnswer> {
  const bindings = deps.pings;
  if (!bindings) throw unavailable('pings are not answered by this process', 5);
  const receivedAt = Date.now();
  const pingId = randomUUID();
  const expiresAt = receivedAt + deps.config.PING_EXPIRY_SECONDS * 1000;
  const deadline = receivedAt + (await longestAuction(deps)) + ANSWER_SLACK_MS - OWN_MARGIN_MS;
  const replies = deps.pingReplies;
  // Expected before it is enqueued: a reply however quick finds its request.
  const expected = replies?.expect(pingId);
  try {
    try {
      await deps.queues.enqueuePing({
        pingId,
        sourceId: source.id,
        receivedAt,
        expiresAt,
        answerBy: deadline,
        values,
        ...(replies ? { replyTo: replies.channel } : {}),
      });
    } catch (err) {
      deps.log.warn({ err: { message: (err as Error).message } }, 'could not enqueue a ping');
      throw unavailable('the ping could not be auctioned right now; retry shortly', 1, err);
    }
    let answer = await awaitAnswer(deps, pingId, expected, deadline);
    const late = !answer;
    if (!answer) {
      // Late: no bid, bound so, unless the worker's answer got there first (then it is the answer).
      const noBid: PingState<PingBinding> = {
        status: 'no_bid',
        expiresAt,
        binding: { pingId, sourceId: source.id, routeId: null, values, pings: [], ranked: [], lost: [] },
      };
      const bound = await bindings.settle(pingId, source.id, noBid, keptUntil(receivedAt, expiresAt)).catch(() => true);
      const state = bound ? noBid : ((await bindings.read(pingId).catch(() => undefined)) ?? noBid);
      answer = replyOf(state);
      if (bound) deps.log.info({ pingId }, 'no answer from the worker by the ping’s deadline: answered no bid');
    }
    const { sourceBid } = answer;
    const bid = answer.status === 'bid' && sourceBid !== undefined;
    deps.metrics.pingAnswers.inc({ answer: bid ? 'bid' : late ? 'late' : 'no_bid' });
    if (!bid) return { status: 'no_bid', pingId };
    return {
      status: 'bid',
      pingId,
      bid: amountNumber(amount(sourceBid)),
      expiresAt: new Date(answer.expiresAt).toISOString(),
    };
  } finally {
    expected?.done();
  }
}

/** What a binding tells the source. */
const replyOf = ({ status, expiresAt, binding }: PingState<PingBinding>): PingReply => ({
  status,
  expiresAt,
  ...(binding.sourceBid !== undefined ? { sourceBid: binding.sourceBid } : {}),
});

/**
 * The worker's answer by the deadline, or undefined. It comes on this process's reply channel; while that
 * subscription is down (and once when it is back: a reply may have been missed) the ping's binding is looked at
 * instead. Without a reply channel (a process built without one) the binding is looked at once, at the deadline.
 */
async function awaitAnswer(
  deps: AppDeps,
  pingId: string,
  expected: ExpectedReply | undefined,
  deadline: number,
): Promise<PingReply | undefined> {
  const look = async () => {
    const state = await deps.pings!.read(pingId).catch(() => undefined);
    return state && replyOf(state);
  };
  if (!expected) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())));
    return look();
  }
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return undefined;
    const replies = deps.pingReplies!;
    const reply = await expected.within(replies.live ? left : Math.min(left, POLL_WHILE_DOWN_MS));
    if (reply) return reply;
    // A stopping ingest answers at once with what it knows.
    if (replies.closed) return look();
    if (Date.now() >= deadline) return undefined;
    const found = await look();
    if (found) return found;
  }
}

/** The longest auction deadline of the active auction routes (ms), cached per process like the routing rules. */
async function longestAuction(deps: AppDeps): Promise<number> {
  const load = async () => {
    const [row] = await runStatement(sqlPool(deps.db), LONGEST_AUCTION, { fallback: AUCTION_DEFAULTS.timeoutMs });
    return row?.timeoutMs ?? AUCTION_DEFAULTS.timeoutMs;
  };
  const cache = deps.caches?.cache<'longest', number>('rules', DEADLINE_CACHE_TTL_MS);
  return cache ? cache.get('longest', load) : load();
}

/** A lead posted against a ping, claimed for it: the lead with the ping's values, and what is stored with it. */
export interface ClaimedPing {
  lead: NormalisedLead;
  pinged: PingedLead;
  /** Gives the claim back: the lead was not recorded after all (a duplicate, PostgreSQL away). */
  release(): Promise<void>;
}

/**
 * Claims the ping a lead is posted against (`pingId`, README "Ping then post (for sources)", ADR 0032) for a new lead id, atomically
 * on its binding (one lead per ping, across ingest replicas), or throws the answer: another source's or an
 * unknown ping 404, a second post is a duplicate of the first lead (returned), one after `expiresAt` 410 `ping_expired`, a ping
 * without a bid 422 `no_bid`. The ping's values replace the posted ones (geo, source, fields: what the buyers
 * bid on); the names of those that differed are noted on the lead's `queued` event, never their values.
 */
export async function claimPing(
  deps: AppDeps,
  source: PostingSource,
  lead: NormalisedLead,
): Promise<ClaimedPing | { duplicateOf: string }> {
  const bindings = deps.pings;
  const pingId = lead.pingId!;
  if (!bindings) throw unavailable('posts against pings are not taken by this process', 5);
  const leadId = newLeadId();
  const claim = await bindings.claim(pingId, source.id, Date.now(), leadId).catch((err: unknown) => {
    throw unavailable('the ping could not be looked up right now; retry shortly', 1, err);
  });
  switch (claim.outcome) {
    case 'unknown':
    case 'foreign':
      throw notFound('ping');
    case 'duplicate':
      return { duplicateOf: claim.leadId };
    case 'expired':
      throw rejected(410, 'ping_expired', 'the ping expired: ping the lead again');
    case 'no_bid':
      throw rejected(422, 'no_bid', 'the ping got no bid: nothing can be sold against it');
    case 'claimed':
      break;
  }
  const { values, routeId, pings, ranked, lost } = claim.binding;
  const changed = changedFields(lead, values);
  return {
    lead: { ...lead, geo: values.geo, source: values.source, fields: values.fields },
    pinged: {
      id: leadId,
      ping: { pingId, routeId, pings, ranked, lost },
      detail: { pingId, ...(changed.length > 0 ? { pingValuesKept: changed } : {}) },
    },
    release: () => bindings.release(pingId, leadId).catch(() => undefined),
  };
}

const rejected = (status: number, reason: string, message: string) =>
  new AppError(reason, message, status, { errors: [{ field: '/pingId', message }], body: { reason } });

/** The paths (`geo`, `source`, `fields.<name>`) whose posted value differs from the ping's. */
export function changedFields(lead: NormalisedLead, ping: PingValues): string[] {
  const changed = (['geo', 'source'] as const).filter((k) => lead[k] !== ping[k]);
  const names = new Set([...Object.keys(lead.fields), ...Object.keys(ping.fields)]);
  return [...changed, ...[...names].filter((n) => lead.fields[n] !== ping.fields[n]).map((n) => `fields.${n}`)];
}
