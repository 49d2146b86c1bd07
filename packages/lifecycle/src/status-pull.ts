import { createHash } from 'node:crypto';
import {
  conflict,
  isUuid,
  notFound,
  STATUS_PULL_DEFAULTS,
  statusPullSettings,
  statusPullWindow,
} from '@leadrouter/core/runtime';
import {
  CLAIM_STATUS_PULLS,
  FINISH_STATUS_PULL,
  RELEASE_STATUS_PULL,
  RENEW_STATUS_PULL,
  REQUEST_STATUS_PULL,
  RESCHEDULE_STATUS_PULL,
  SALES_FOR_PULL,
  STATUS_PULL_STATE,
  runStatement,
  sqlPool,
  type Db,
  type StatementRow,
} from '@leadrouter/db';
import type { BodilessRequest, ExchangeResult, OutgoingRequest } from '@leadrouter/delivery';
import { readStatusPullPage, statusPullRequest, STATUS_PULL_MAX_BYTES } from '@leadrouter/delivery/requests';
import type { WorkerMetrics } from '@leadrouter/metrics';
import type { StatusPullItem, StatusPullItemParse } from '@leadrouter/money';
import type { PostbackJob } from '@leadrouter/queue';
import { decidePageStep, emptyTally, pullOutcome, sameStatus, type PullTally } from './decide/status-pull.js';
import { feedbackPartnerOf, recordSaleFeedback, type FeedbackPartner } from './feedback.js';
import type { FlowLog } from './flow.js';
import type { MoneyDeps } from './money.js';

// Status pulls (README "Feedback from partners", docs/decisions/0029-status-pull.md): a partner with a
// `statusPull` is asked for the statuses of its leads every `intervalSeconds`, page after page over its
// look-back window, and each item that changes a sale's status is recorded as a pulled `status` event through
// the same path as pushed feedback (`recordSaleFeedback`: the lead's lock, `decideFeedback`, once-keys). One
// pull per partner at a time across every worker: a run holds a lease on the partner's row.

/** What a status pull needs: the database and clock, its log, the partner's API, the queue for postbacks. */
export interface StatusPullDeps extends MoneyDeps {
  log: FlowLog;
  /** One exchange with the partner's API (packages/delivery's `exchange`, with the process's outbound agents). */
  exchange(request: OutgoingRequest | BodilessRequest, limitBytes: number): Promise<ExchangeResult>;
  /** Puts the postbacks a recorded event wrote on the queue (those it does not take are the sweeper's). */
  enqueuePostbacks(jobs: PostbackJob[]): Promise<void>;
  metrics?: Pick<WorkerMetrics, 'statusPullRuns' | 'statusPullItems'>;
}

/** A pull claimed by this worker: the partner, its settings and the run's id and start (the database's clock). */
export type ClaimedPull = StatementRow<typeof CLAIM_STATUS_PULLS>;

/** How long a claimed run's lease lasts past its last renewal (renewed before each page and each chunk of items). */
export function leaseSeconds(timeoutMs: number): number {
  return Math.ceil(timeoutMs / 1000) + 60;
}

/** Items matched and recorded together: one look-up of their sales, then one event at a time. */
export const PULL_CHUNK = 500;

/** Claims up to `limit` due pulls for this worker (none that another worker is claiming or running). */
export async function claimStatusPulls(deps: Pick<MoneyDeps, 'db'>, limit: number): Promise<ClaimedPull[]> {
  if (limit <= 0) return [];
  // The lease of the longest timeout a partner may have (ADR 0029): the run renews it as it goes.
  return runStatement(sqlPool(deps.db), CLAIM_STATUS_PULLS, { leaseSeconds: leaseSeconds(120_000), limit });
}

/** How one pull went. */
export interface StatusPullOutcome {
  ok: boolean;
  error: string | null;
  pages: number;
  tally: PullTally;
  /** False when the run lost its lease before it could record its outcome (another run has the partner now). */
  recorded: boolean;
}

/**
 * Runs one claimed pull to its end and records its outcome on the partner (`statusPull: {lastRunAt, ok, error,
 * updated}`), its next pull an interval later. `stopping()` true: the run gives its lease back between two
 * requests, without an outcome, so another worker pulls at once. Never throws for anything the partner
 * answers; what fails on our side fails the run, and a database that cannot record that is thrown (the lease
 * then runs out and the pull is due again).
 */
export async function runStatusPull(
  deps: StatusPullDeps,
  pull: ClaimedPull,
  stopping: () => boolean = () => false,
): Promise<StatusPullOutcome | null> {
  const pool = sqlPool(deps.db);
  const settings = statusPullSettings(pull.statusPull);
  const log = { partnerId: pull.id, run: pull.run };
  const tally = emptyTally();
  const renew = async () =>
    (
      await runStatement(pool, RENEW_STATUS_PULL, {
        id: pull.id,
        run: pull.run,
        leaseSeconds: leaseSeconds(pull.timeoutMs),
      })
    ).length > 0;

  let pulled: { stopped: string | null; pages: number } | 'handed_back';
  try {
    pulled = await pullPages(deps, pull, tally, renew, stopping);
  } catch (err) {
    // Something on our side (the database refused a value, say): the run fails visibly rather than its lease
    // running out unexplained; a database that is down fails the outcome's write too, and that is thrown.
    deps.log.warn({ ...log, err: { message: (err as Error).message } }, 'status pull: an item could not be recorded');
    pulled = { stopped: `failed on our side: ${(err as Error).message.slice(0, 300)}`, pages: 0 };
  }
  if (pulled === 'handed_back') {
    await runStatement(pool, RELEASE_STATUS_PULL, { id: pull.id, run: pull.run });
    deps.log.info(log, 'status pull handed back: the worker is stopping');
    return null;
  }
  const { stopped, pages } = pulled;

  const { ok, error } = pullOutcome(stopped, tally);
  const [finished] = await runStatement(pool, FINISH_STATUS_PULL, {
    id: pull.id,
    run: pull.run,
    ok,
    error,
    updated: tally.updated,
    defaultIntervalSeconds: settings.intervalSeconds,
  });
  deps.metrics?.statusPullRuns.inc({ partner: pull.name, outcome: ok ? 'ok' : 'failed' });
  for (const result of ['updated', 'unchanged', 'unmatched', 'ambiguous', 'unreadable', 'refused'] as const)
    if (tally[result] > 0) deps.metrics?.statusPullItems.inc({ partner: pull.name, result }, tally[result]);
  const { firstUnreadable: _first, ...counts } = tally;
  // Counts and our own ids only: an item may name a person (a reference can be anything the partner chose).
  if (ok) deps.log.info({ ...log, pages, ...counts }, 'status pull done');
  else deps.log.warn({ ...log, pages, ...counts, error }, 'status pull failed');
  return { ok, error, pages, tally, recorded: finished !== undefined };
}

/** Why a run stops when its lease cannot be renewed. */
const PARTNER_CHANGED = 'stopped: the partner was paused or deactivated, or its statusPull changed, during the pull';

/**
 * The pages of one run, each read and its items recorded, until the last page, or a page that cannot be read,
 * or the lease is lost (renewed before each page and each chunk of items); 'handed_back' when the worker
 * stops meanwhile.
 */
async function pullPages(
  deps: StatusPullDeps,
  pull: ClaimedPull,
  tally: PullTally,
  renew: () => Promise<boolean>,
  stopping: () => boolean,
): Promise<{ stopped: string | null; pages: number } | 'handed_back'> {
  const settings = statusPullSettings(pull.statusPull);
  const partner = feedbackPartnerOf({ ...pull, active: true });
  const window = statusPullWindow(settings, pull.startedAt);
  let stopped: string | null = null;
  let pages = 0;
  let previous: string | null = null;
  for (let page = settings.page ? 1 : null; ; page = page === null ? null : page + 1) {
    if (stopping()) return 'handed_back';
    if (!(await renew())) {
      stopped = PARTNER_CHANGED;
      break;
    }
    const result = await deps.exchange(
      statusPullRequest(settings, window, page, pull.timeoutMs),
      STATUS_PULL_MAX_BYTES + 1,
    );
    const read = readStatusPullPage(result, settings);
    const where = page === null ? '' : `page ${page}: `;
    if (!read.ok) {
      stopped = `${where}${read.error}`;
      break;
    }
    pages++;
    const digest = result.kind === 'response' ? createHash('sha256').update(result.bytes).digest('hex') : null;
    const step = decidePageStep({
      page,
      size: settings.page?.size ?? null,
      count: read.items.length,
      sameAsPrevious: digest !== null && digest === previous,
    });
    previous = digest;
    if (step.next === 'fail') {
      stopped = step.error;
      break;
    }
    for (let i = 0; i < read.items.length; i += PULL_CHUNK) {
      if (i > 0 && !(await renew())) {
        stopped = PARTNER_CHANGED;
        break;
      }
      await applyItems(deps, partner, read.items.slice(i, i + PULL_CHUNK), tally);
    }
    if (stopped !== null || step.next === 'done') break;
  }

  return { stopped, pages };
}

/**
 * Records the items of a page that change a sale's status, in order (an answer with a lead's history applies
 * each change): items naming no sale of the partner's, or the status it has already, are passed over without
 * taking any lock; the others go through `recordSaleFeedback` as pulled `status` events, which decides under
 * the lead's lock again (the status may have changed meanwhile) and writes nothing for an unchanged one.
 */
async function applyItems(
  deps: StatusPullDeps,
  partner: FeedbackPartner,
  items: readonly StatusPullItemParse[],
  tally: PullTally,
): Promise<void> {
  tally.items += items.length;
  const readable: StatusPullItem[] = [];
  for (const item of items) {
    if (item.ok) readable.push(item.item);
    else {
      tally.unreadable++;
      tally.firstUnreadable ??= item.error;
    }
  }
  if (readable.length === 0) return;
  const references = [...new Set(readable.map((i) => i.reference))];
  const rows = await runStatement(sqlPool(deps.db), SALES_FOR_PULL, {
    partnerId: partner.id,
    references,
    // A reference that is no UUID names no lead of ours (and would not cast to uuid).
    leadIds: references.map((ref) => (isUuid(ref) ? ref : null)),
  });
  // The sale's status as this page leaves it: a later item about the same lead compares with it.
  const sales = new Map(rows.map((row) => [row.reference, { ...row }]));
  const now = (deps.now ?? (() => new Date()))();
  for (const item of readable) {
    const sale = sales.get(item.reference);
    if (!sale) tally.unmatched++;
    else if (sale.byReference > 1) tally.ambiguous++;
    else if (sameStatus(sale.partnerStatus, item.status)) tally.unchanged++;
    else {
      const result = await recordSaleFeedback(
        deps,
        partner,
        { deliveryId: sale.deliveryId, leadId: sale.leadId },
        {
          lead: { leadId: sale.leadId },
          event: 'status',
          status: item.status,
          amount: item.amount,
          reason: null,
          eventId: null,
          // A partner's clock ahead of ours must not date a status in our future (it would hide the next ones).
          at: item.at === null || item.at > now ? null : item.at,
        },
        'pull',
      );
      if (result.answer.httpStatus === 202) {
        tally.updated++;
        sale.partnerStatus = item.status;
        await deps.enqueuePostbacks(result.postbacks);
      } else if (result.answer.httpStatus === 200) tally.unchanged++;
      else tally.refused++;
    }
  }
}

/**
 * "Pull now" (`POST /v1/admin/partners/:id/status-pull`): makes the partner's next pull due at once, for the
 * first worker that looks (within a second or two). 404 for no such partner; 409 while a pull of it runs, or
 * when it has no `statusPull`, or is paused or inactive.
 */
export async function requestStatusPull(db: Db, id: string): Promise<void> {
  const pool = sqlPool(db);
  const [requested] = await runStatement(pool, REQUEST_STATUS_PULL, { id });
  if (requested) return;
  const [state] = await runStatement(pool, STATUS_PULL_STATE, { id });
  if (!state) throw notFound('partner');
  if (!state.configured) throw conflict('the partner has no statusPull: set one first');
  if (!state.active) throw conflict('the partner is inactive: its statuses are not pulled');
  if (state.paused) throw conflict('the partner is paused: its statuses are not pulled until it is resumed');
  throw conflict('a status pull of this partner is running: its results will show on the partner');
}

/**
 * After an operator changed the partner's `statusPull`: a shorter interval takes effect from its last pull, not
 * after the next one (a new statusPull is due at once; a pull that runs finishes with the settings it read).
 */
export async function rescheduleStatusPull(db: Db, id: string): Promise<void> {
  await runStatement(sqlPool(db), RESCHEDULE_STATUS_PULL, {
    id,
    defaultIntervalSeconds: STATUS_PULL_DEFAULTS.intervalSeconds,
  });
}
