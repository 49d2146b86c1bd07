import { createHash } from 'node:crypto';
import { AppError, invalid, unavailable, validateLead, type FieldError, type NormalisedLead } from '@leadrouter/core';
import { inTransaction, isDatabaseUnavailable, sqlPool, statement, type SqlPool } from '@leadrouter/db';
import type { IngestDeps } from '../deps.js';
import type { PostingSource } from '../http/auth.js';

/**
 * What recording a lead came to. A duplicate names the lead it repeats
 * (for the operators' trace) and whether that lead is the posting source's
 * own: only then may the answer show its id (`acceptAnswer`).
 */
export type AcceptOutcome =
  { status: 'accepted'; id: string } | { status: 'duplicate'; existingId: string; sameSource: boolean };

/** The answer a source gets for a lead. */
export type AcceptAnswer = { status: 'accepted'; id: string } | { status: 'duplicate'; id?: string };

/**
 * What the source is told: a duplicate of its own lead names that lead; a
 * duplicate of another source's lead does not (README "What each party sees":
 * ids are only shown to their own source — an id there would tell any source which phones and
 * emails others have sent).
 */
export function acceptAnswer(outcome: AcceptOutcome): AcceptAnswer {
  if (outcome.status === 'accepted') return outcome;
  return outcome.sameSource ? { status: 'duplicate', id: outcome.existingId } : { status: 'duplicate' };
}

export const MAX_IDEMPOTENCY_KEY = 200;
/** How long an Idempotency-Key holds (24 h, README "Posting leads (for sources)"); an older key is released when it is used again. */
export const IDEMPOTENCY_WINDOW_HOURS = 24;

/** Validates one lead, including its Idempotency-Key; throws a 422 listing every problem. */
export function checkLead(body: unknown, idempotencyKey: string | undefined): NormalisedLead {
  const errors: FieldError[] = [];
  if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY)) {
    errors.push({ field: 'Idempotency-Key', message: `header must be 1–${MAX_IDEMPOTENCY_KEY} characters` });
  }
  const v = validateLead(body);
  if (!v.ok) errors.push(...v.errors);
  if (!v.ok || errors.length > 0) throw invalid(errors);
  return v.lead;
}

/**
 * Records leads durably, then enqueues them, one process-wide group at a
 * time ("group commit", docs/performance.md): leads posted while earlier
 * ones are being written wait, and go together in the next transaction and
 * the next enqueue. Under load that is one PostgreSQL round trip and one
 * Redis round trip for many leads, instead of one of each per lead; a lone
 * lead goes at once.
 *
 * The answer depends only on the PostgreSQL commit: if Redis is away the
 * lead stays `queued` and the worker's sweeper enqueues it when Redis
 * returns.
 */
export class LeadRecorder {
  private readonly pool: SqlPool;
  private waiting: Pending[] = [];
  private writing = 0;

  /** Transactions in flight at once (each holds one connection). */
  static readonly MAX_IN_FLIGHT = 4;
  /** Leads in one transaction at most. */
  static readonly MAX_GROUP = 64;

  constructor(private readonly deps: IngestDeps) {
    this.pool = sqlPool(deps.db);
  }

  /**
   * Under advisory locks on the lead's phone and email (so simultaneous
   * posts, on any replica, are serialised): an Idempotency-Key seen in the
   * last 24 h replays the first answer; a phone or email seen within the
   * source's duplicate window is a duplicate; otherwise the lead is inserted
   * with its `queued` event.
   */
  accept(source: PostingSource, lead: NormalisedLead, idempotencyKey?: string): Promise<AcceptOutcome> {
    const requestHash = idempotencyKey ? fingerprint(lead) : null;
    return new Promise<AcceptOutcome>((resolve, reject) => {
      this.waiting.push({ source, lead, idempotencyKey: idempotencyKey ?? null, requestHash, resolve, reject });
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
    try {
      await this.deps.queues.enqueueRoute(created);
    } catch (err) {
      this.deps.log.warn(
        { leads: created.length, err: { message: (err as Error).message } },
        'enqueue failed; the sweeper will enqueue the leads',
      );
    }
    group.forEach((p, i) => {
      const o = outcomes[i]!;
      if (o instanceof AppError) p.reject(o);
      else p.resolve(o.outcome);
    });
  }

  /** What a lead recorded alone failed with, as the answer it gets. */
  private async failed(p: Pending, err: unknown): Promise<Recorded | AppError> {
    if (err instanceof AppError) return err;
    if (p.idempotencyKey && isUniqueViolation(err)) {
      // The same key with another phone/email committed first (a different lock).
      const first = await this.pool
        .query<{ id: string; request_hash: string | null }>(
          'SELECT id, request_hash FROM leads WHERE source_id = $1 AND idempotency_key = $2',
          [p.source.id, p.idempotencyKey],
        )
        .then((r) => r.rows[0] ?? null)
        .catch(() => null);
      if (first && first.request_hash === p.requestHash) return replayOf(first.id);
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
  source: PostingSource;
  lead: NormalisedLead;
  idempotencyKey: string | null;
  requestHash: string | null;
  resolve: (outcome: AcceptOutcome) => void;
  reject: (err: AppError) => void;
}

/** Takes the advisory locks, in the order given (ascending: every transaction takes them so, and two never deadlock). */
const LOCK_KEYS = statement('lr_lock_keys', ['bigint[]'], 'SELECT pg_advisory_xact_lock(k) FROM unnest($1) AS k');

/** Releases source $1's Idempotency-Key $2 when its holder is older than $3 hours. */
const RELEASE_KEY = statement(
  'lr_release_key',
  ['uuid', 'text', 'int'],
  `UPDATE leads SET idempotency_key = NULL, updated_at = now()
   WHERE source_id = $1 AND idempotency_key = $2 AND created_at < now() - make_interval(hours => $3)`,
);

/**
 * Lead number $1 of the group, from source $2: the holder of its
 * Idempotency-Key $10 (a replay), else a lead with its phone $4 or email $5
 * in the source's duplicate window of $12 hours (0: no check), with
 * whether it is source $2's own, else the lead inserted with its `queued`
 * event. The duplicate look-up is one branch per index, so no plan can walk
 * `created_at` instead.
 */
export const ACCEPT = statement(
  'lr_accept',
  ['int', 'uuid', 'text', 'text', 'text', 'text', 'text', 'jsonb', 'jsonb', 'text', 'text', 'int'],
  `WITH
   replay AS (SELECT id, request_hash FROM leads WHERE source_id = $2 AND idempotency_key = $10),
   duplicate AS (
     SELECT id, source_id FROM (
       SELECT id, source_id, created_at FROM leads
       WHERE phone = $4 AND created_at > now() - make_interval(hours => $12)
       UNION ALL
       SELECT id, source_id, created_at FROM leads
       WHERE email = $5 AND created_at > now() - make_interval(hours => $12)
     ) AS d
     WHERE $12 > 0 AND NOT EXISTS (SELECT 1 FROM replay)
     ORDER BY created_at LIMIT 1),
   created AS (
     INSERT INTO leads (id, source_id, name, phone, email, geo, sub_source, fields, consent,
                        idempotency_key, request_hash, updated_at)
     SELECT gen_random_uuid(), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now()
     WHERE NOT EXISTS (SELECT 1 FROM replay) AND NOT EXISTS (SELECT 1 FROM duplicate)
     RETURNING id),
   event AS (INSERT INTO lead_events (lead_id, status) SELECT id, 'queued'::"LeadStatus" FROM created)
   SELECT $1 AS n, 'replay' AS outcome, id::text AS id, request_hash::text AS request_hash, TRUE AS same_source
   FROM replay
   UNION ALL SELECT $1, 'duplicate', id::text, NULL, source_id = $2 FROM duplicate
   UNION ALL SELECT $1, 'accepted', id::text, NULL, TRUE FROM created`,
);

/**
 * One transaction for a group of leads, in one round trip: the statements of
 * one simple-protocol message run as one implicit transaction, each with a
 * fresh snapshot, so the checks that follow the locks see every lead
 * committed before the locks were granted — and the group's earlier leads.
 * The statements are prepared once per connection (`tx.call`; ADR 0010).
 *
 * 1. every advisory lock of the group, in ascending order;
 * 2. per lead, in order: with a key, release it if its holder is older than
 *    the window; then one statement that finds the key's holder (a replay) or
 *    a duplicate, and otherwise inserts the lead with its `queued` event.
 */
async function recordLeads(pool: SqlPool, group: Pending[]): Promise<(Recorded | AppError)[]> {
  const keys = [...new Set(group.flatMap((p) => lockKeys(p.lead)))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const results = await inTransaction(pool, (tx) => {
    const statements = [tx.call(LOCK_KEYS, keys.map(String))];
    group.forEach(({ source, lead, idempotencyKey, requestHash }, n) => {
      if (idempotencyKey) statements.push(tx.call(RELEASE_KEY, source.id, idempotencyKey, IDEMPOTENCY_WINDOW_HOURS));
      statements.push(
        tx.call(
          ACCEPT,
          n,
          source.id,
          lead.name,
          lead.phone,
          lead.email,
          lead.geo,
          lead.source,
          lead.fields,
          lead.consent,
          idempotencyKey,
          requestHash,
          source.duplicateWindowHours,
        ),
      );
    });
    return tx.commit(statements);
  });
  type Row = { n?: number; outcome: string; id: string; request_hash: string | null; same_source: boolean };
  const rows = new Map<number, Row>();
  for (const result of results) {
    for (const row of result as Row[]) {
      if (typeof row.n === 'number' && !rows.has(row.n)) rows.set(row.n, row);
    }
  }
  return group.map(({ requestHash }, n) => {
    const row = rows.get(n);
    if (!row) throw new Error('recording a lead returned no row');
    if (row.outcome === 'replay') return row.request_hash === requestHash ? replayOf(row.id) : keyReused();
    if (row.outcome === 'duplicate') {
      return { outcome: { status: 'duplicate', existingId: row.id, sameSource: row.same_source }, created: false };
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

/** Advisory lock keys (64-bit) for the phone and email, in a fixed order so two posts never deadlock. */
export function lockKeys(lead: Pick<NormalisedLead, 'phone' | 'email'>): bigint[] {
  const keys = [`phone:${lead.phone}`, ...(lead.email ? [`email:${lead.email}`] : [])].map((v) =>
    createHash('sha256').update(v).digest().readBigInt64BE(0),
  );
  return keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function fingerprint(lead: NormalisedLead): string {
  return createHash('sha256').update(JSON.stringify(lead)).digest('hex');
}

/** PostgreSQL's unique_violation, as node-postgres reports it. */
function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === '23505';
}
