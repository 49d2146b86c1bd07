import { createHash } from 'node:crypto';
import { uuidv7 } from 'uuidv7';
import {
  AppError,
  IDEMPOTENCY_WINDOW_HOURS,
  invalid,
  unavailable,
  type NormalisedLead,
} from '@leadrouter/core/runtime';
import {
  ACCEPT,
  acceptValues,
  DELETE_OLD_IDEMPOTENCY_KEYS,
  sqlTransaction,
  isDatabaseUnavailable,
  LEAD_BY_KEY,
  LOCK_KEYS,
  RELEASE_KEY,
  runStatement,
  sqlPool,
  type Db,
  type SqlPool,
  type StatementRow,
} from '@leadrouter/db';
import type { Queues } from '@leadrouter/queue';
import type { FlowLog } from './flow.js';

/**
 * What recording a lead came to. A duplicate names the lead it repeats
 * (for the operators' trace) and whether that lead is the posting source's
 * own: only then may the answer show its id (the ingest's `acceptAnswer`).
 */
export type AcceptOutcome =
  { status: 'accepted'; id: string } | { status: 'duplicate'; existingId: string; sameSource: boolean };

/** The source a lead is accepted from: its id and its duplicate window. */
export interface AcceptingSource {
  id: string;
  duplicateWindowHours: number;
}

/**
 * A lead posted against a ping (ADR 0032): the id its ping was claimed for, the auction it is sold against
 * (the `ping` column), and what its `queued` event notes.
 */
export interface PingedLead {
  id: string;
  ping: object;
  detail: object;
}

/** What accepting leads needs: the database, the route queue, the log. */
export interface AcceptDeps {
  db: Db;
  queues: Pick<Queues, 'enqueueRoute'>;
  log: Pick<FlowLog, 'warn' | 'error'>;
}

/**
 * Accepts leads (the ingest's `POST /v1/leads` and batches): records them durably, then enqueues them, one process-wide group at a
 * time ("group commit", docs/performance.md): leads posted while earlier
 * ones are being written wait, and go together in the next transaction and
 * the next enqueue. Under load that is one PostgreSQL round trip and one
 * Redis round trip for many leads, instead of one of each per lead; a lone
 * lead goes at once.
 *
 * The answer depends only on the PostgreSQL commit: if Redis is away the
 * lead stays `queued` and the worker's sweeper enqueues it when Redis
 * returns, and an enqueue that takes longer than ENQUEUE_WAIT_MS (a failover)
 * goes on after the answer.
 */
export class LeadRecorder {
  private readonly pool: SqlPool;
  private waiting: Pending[] = [];
  private writing = 0;

  /** Transactions in flight at once (each holds one connection). */
  static readonly MAX_IN_FLIGHT = 4;
  /** Leads in one transaction at most. */
  static readonly MAX_GROUP = 64;
  /** How long an answer waits for its lead's enqueue after the commit (a healthy Redis takes a millisecond or two). */
  static readonly ENQUEUE_WAIT_MS = 1000;

  constructor(private readonly deps: AcceptDeps) {
    this.pool = sqlPool(deps.db);
  }

  /**
   * Under advisory locks on the lead's phone and email when its source checks
   * duplicates, and on its Idempotency-Key (`locksOf`: simultaneous posts, on
   * any replica, are serialised): an Idempotency-Key seen in the
   * last 24 h replays the first answer; a phone or email seen within the
   * source's duplicate window is a duplicate; otherwise the lead is inserted
   * with its `queued` event.
   */
  accept(
    source: AcceptingSource,
    lead: NormalisedLead,
    idempotencyKey?: string,
    pinged?: PingedLead,
  ): Promise<AcceptOutcome> {
    const requestHash = idempotencyKey ? fingerprint(lead) : null;
    return new Promise<AcceptOutcome>((resolve, reject) => {
      this.waiting.push({
        source,
        lead,
        idempotencyKey: idempotencyKey ?? null,
        requestHash,
        pinged: pinged ?? null,
        resolve,
        reject,
      });
      this.next();
    });
  }

  private next(): void {
    while (this.writing < LeadRecorder.MAX_IN_FLIGHT && this.waiting.length > 0) {
      const group = this.waiting.splice(0, LeadRecorder.MAX_GROUP);
      this.writing++;
      void this.write(group).finally(() => {
        this.writing--;
        this.next();
      });
    }
  }

  private async write(group: Pending[]): Promise<void> {
    let outcomes: (Recorded | AppError)[];
    try {
      outcomes = await recordLeads(this.pool, group);
    } catch (err) {
      if (group.length > 1 && !isDatabaseUnavailable(err)) {
        // One lead spoiled the transaction (an Idempotency-Key committed meanwhile by another replica): each alone.
        await Promise.all(group.map((p) => this.write([p])));
        return;
      }
      // PostgreSQL could not be used (its connection failed, perhaps after the commit): 503 for each, never
      // the group again, which could record a second copy of leads that did commit.
      outcomes = group.length > 1 ? this.notRecorded(group.length, err) : [await this.failed(group[0]!, err)];
    }
    const created = outcomes.flatMap((o) =>
      o instanceof AppError || !o.created || o.outcome.status !== 'accepted' ? [] : [o.outcome.id],
    );
    const enqueued = this.deps.queues.enqueueRoute(created).then(
      () => undefined,
      (err: unknown) => {
        this.deps.log.warn(
          { leads: created.length, err: { message: (err as Error).message } },
          'enqueue failed; the sweeper will enqueue the leads',
        );
      },
    );
    // The answers wait for the enqueue only so long: each lead is durable from its commit, and the sweeper
    // enqueues what Redis did not take. A shard being failed over, or a Redis that does not answer, would
    // otherwise hold every answer for the commands' timeouts and redirections (seconds). The group's slot stays
    // taken until Redis has answered, so a slow Redis still slows the intake rather than piling up enqueues.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      enqueued,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, LeadRecorder.ENQUEUE_WAIT_MS))),
    ]);
    clearTimeout(timer);
    group.forEach((p, i) => {
      const o = outcomes[i]!;
      if (o instanceof AppError) p.reject(o);
      else p.resolve(o.outcome);
    });
    await enqueued;
  }

  /** What a lead recorded alone failed with, as the answer it gets. */
  private async failed(p: Pending, err: unknown): Promise<Recorded | AppError> {
    if (err instanceof AppError) return err;
    if (p.idempotencyKey && isUniqueViolation(err)) {
      // The same key with another phone/email committed first (a different lock).
      const first = await runStatement(this.pool, LEAD_BY_KEY, { sourceId: p.source.id, key: p.idempotencyKey })
        .then((rows) => rows[0] ?? null)
        .catch(() => null);
      if (first && first.requestHash === p.requestHash) return replayOf(first.id);
      if (first) return keyReused();
    }
    return this.notRecorded(1, err)[0]!;
  }

  /** The 503 for each of `leads` leads that PostgreSQL did not take. */
  private notRecorded(leads: number, err: unknown): AppError[] {
    this.deps.log.error({ leads, err: { message: (err as Error).message } }, 'could not record lead');
    return Array.from({ length: leads }, () =>
      unavailable('the lead could not be recorded right now; retry shortly', 5, err),
    );
  }
}

/** A lead's answer, and whether this transaction created it (only new leads are enqueued). */
interface Recorded {
  outcome: AcceptOutcome;
  created: boolean;
}

const replayOf = (id: string): Recorded => ({ outcome: { status: 'accepted', id }, created: false });

interface Pending {
  source: AcceptingSource;
  lead: NormalisedLead;
  idempotencyKey: string | null;
  requestHash: string | null;
  pinged: PingedLead | null;
  resolve: (outcome: AcceptOutcome) => void;
  reject: (err: AppError) => void;
}

/**
 * One transaction for a group of leads, in one round trip: the statements of
 * one simple-protocol message run as one implicit transaction, each with a
 * fresh snapshot, so the checks that follow the locks see every lead
 * committed before the locks were granted — and the group's earlier leads.
 * The statements are prepared once per connection (`tx.call`; ADR 0010).
 *
 * 1. every advisory lock of the group (`locksOf`), in ascending order;
 * 2. per lead, in order: with a key, release it if its holder is older than
 *    the window; then one statement that finds the key's holder (a replay) or
 *    a duplicate, and otherwise inserts the lead with its `queued` event.
 */
async function recordLeads(pool: SqlPool, group: Pending[]): Promise<(Recorded | AppError)[]> {
  const keys = [...new Set(group.flatMap(locksOf))].sort(ascending);
  const accepted = await sqlTransaction(pool, async (tx) => {
    const statements: string[] = keys.length > 0 ? [tx.call(LOCK_KEYS, { keys })] : [];
    /** Where each lead's ACCEPT is in the message. */
    const acceptAt = group.map(({ source, lead, idempotencyKey: key, requestHash, pinged }, n) => {
      if (key)
        statements.push(tx.call(RELEASE_KEY, { sourceId: source.id, key, windowHours: IDEMPOTENCY_WINDOW_HOURS }));
      const values = {
        n,
        sourceId: source.id,
        key,
        requestHash,
        windowHours: source.duplicateWindowHours,
        ...(pinged ?? {}),
      };
      return statements.push(tx.call(ACCEPT, acceptValues(lead, values))) - 1;
    });
    const results = await tx.commit(statements);
    return acceptAt.map((i) => results[i] as StatementRow<typeof ACCEPT>[]);
  });
  const rows = new Map(accepted.flat().map((r) => [r.n, r]));
  return group.map(({ requestHash }, n) => {
    const row = rows.get(n);
    if (!row) throw new Error('recording a lead returned no row');
    if (row.outcome === 'replay') return row.requestHash === requestHash ? replayOf(row.id) : keyReused();
    if (row.outcome === 'duplicate') {
      return { outcome: { status: 'duplicate', existingId: row.id, sameSource: row.sameSource }, created: false };
    }
    return { outcome: { status: 'accepted', id: row.id }, created: true };
  });
}

const keyReused = () =>
  invalid([
    {
      field: 'Idempotency-Key',
      message: `was already used in the last ${IDEMPOTENCY_WINDOW_HOURS} h for a different lead; use a new key for a new lead`,
    },
  ]);

/**
 * Deletes the Idempotency-Keys whose lead is older than the replay window (IDEMPOTENCY_WINDOW_HOURS; ADR 0035
 * Decision 5): the worker's housekeeping, in batches of `batch` rows (each its own short transaction), at most
 * `maxBatches`; a key reused before this ran is released by the accept itself (RELEASE_KEY). Stops early when
 * `stopping()` says so. Returns how many it deleted.
 */
export async function pruneIdempotencyKeys(
  deps: { db: Db; now: () => Date },
  opts: { batch?: number; maxBatches?: number; stopping?: () => boolean } = {},
): Promise<number> {
  const pool = sqlPool(deps.db);
  const batch = opts.batch ?? 5_000;
  const before = new Date(deps.now().getTime() - IDEMPOTENCY_WINDOW_HOURS * 60 * 60_000);
  let deleted = 0;
  for (let i = 0; i < (opts.maxBatches ?? 200) && !opts.stopping?.(); i++) {
    const [{ deleted: n = 0 } = {}] = await runStatement(pool, DELETE_OLD_IDEMPOTENCY_KEYS, { before, limit: batch });
    deleted += n;
    if (n < batch) break;
  }
  return deleted;
}

/** A new lead's id, as PostgreSQL would make it (UUIDv7, ADR 0035): for a lead whose id is needed before it is recorded. */
export function newLeadId(): string {
  return uuidv7();
}

/**
 * The advisory locks one lead's acceptance takes (ADR 0009):
 * - its phone and email when its source checks duplicates, so that two posts of one person, on any replica, are
 *   serialised and the second sees the first. A source without a duplicate window takes none: a burst of leads
 *   with the same placeholder email (common in affiliate traffic) does not queue on one lock for nothing.
 * - its Idempotency-Key, so that a post retried while the first is being recorded waits for it and replays it.
 */
function locksOf({ source, lead, idempotencyKey }: Pending): bigint[] {
  return [
    ...(source.duplicateWindowHours > 0 ? lockKeys(lead) : []),
    ...(idempotencyKey ? [lockKey(`key:${source.id}:${idempotencyKey}`)] : []),
  ];
}

/** Advisory lock keys (64-bit) for the phone and email, in a fixed order so two posts never deadlock. */
export function lockKeys(lead: Pick<NormalisedLead, 'phone' | 'email'>): bigint[] {
  return [`phone:${lead.phone}`, ...(lead.email ? [`email:${lead.email}`] : [])].map(lockKey).sort(ascending);
}

const lockKey = (name: string): bigint => createHash('sha256').update(name).digest().readBigInt64BE(0);
const ascending = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

function fingerprint(lead: NormalisedLead): string {
  return createHash('sha256').update(JSON.stringify(lead)).digest('hex');
}

/** PostgreSQL's unique_violation, as node-postgres reports it. */
function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === '23505';
}
