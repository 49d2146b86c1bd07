import type pg from 'pg';
import { isDatabaseUnavailable } from './errors.js';
import type { Statement } from './sql.js';
import {
  combinedLast,
  connect,
  isCombined,
  preparesStatements,
  sqlTransaction,
  SqlTx,
  type RowsOfEach,
  type SqlCall,
  type SqlTransactionOptions,
} from './statements.js';

/**
 * Group commit for transactions that run at the same time (the worker's: a lead's routing, an attempt's
 * record; ADR 0038). Transactions asked for while others are in flight wait, and then run together on one
 * connection as **one** PostgreSQL transaction: each keeps its own code and its own `SqlTx`, but the messages
 * they send at the same step go as one message, and one COMMIT ends them all. Under load that is one commit
 * and a few round trips for many leads instead of a commit and a few round trips per lead; a lone transaction
 * runs alone, as `sqlTransaction` does.
 *
 * What a shared transaction must not break:
 * - **Its members' locks are one session's.** PostgreSQL's row and advisory locks are re-entrant within a
 *   transaction, so two members would not exclude each other. Two members with the same key (the lead) are
 *   never in one group, and a member announcing locks another member holds (`tx.exclusive`: a capped
 *   partner's advisory lock, ADR 0030) abandons the group.
 * - **Each member commits, or none.** A member's `commit` resolves once the shared COMMIT has succeeded (what
 *   it wrote is durable when its code goes on, e.g. to call a partner); a member that fails, rolls back, or
 *   whose statement fails abandons the group: it is rolled back and every member runs again, alone, from the
 *   start (each with its own options). Only PostgreSQL being unavailable fails every member with that error,
 *   as it would have failed each alone: none runs again, which could repeat what a lost COMMIT did commit.
 * - **Members are sorted by key** (the lead's id), so two groups take their leads' locks in the same order.
 */
export class SqlTransactionGroups {
  private waiting: Member[] = [];
  private inFlight = 0;

  /** Groups in flight at once (each holds one connection), and members in one group at most. */
  static readonly DEFAULTS: GroupLimits = { maxInFlight: 4, maxMembers: 32 };

  constructor(
    private readonly pool: pg.Pool,
    private readonly limits: GroupLimits = SqlTransactionGroups.DEFAULTS,
  ) {}

  /**
   * Runs `work` in a transaction, as `sqlTransaction` does (committed when it returns without committing
   * itself), possibly shared with others: `key` names what it locks (never two of one key in a group).
   * `work` may run more than once (a shared attempt abandoned, then alone): it must do nothing outside
   * PostgreSQL that cannot be done again, as with `retryConflicts`.
   */
  run<T>(key: string, work: (tx: SqlTx) => Promise<T>, options: SqlTransactionOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ key, work, options, resolve: (value) => resolve(value as T), reject });
      this.next();
    });
  }

  private next(): void {
    while (this.inFlight < this.limits.maxInFlight && this.waiting.length > 0) {
      const keys = new Set<string>();
      const group: Member[] = [];
      const rest: Member[] = [];
      for (const m of this.waiting) {
        if (group.length < this.limits.maxMembers && !keys.has(m.key)) {
          keys.add(m.key);
          group.push(m);
        } else rest.push(m);
      }
      this.waiting = rest;
      this.inFlight++;
      void this.runGroup(group).finally(() => {
        this.inFlight--;
        this.next();
      });
    }
  }

  private async runGroup(group: Member[]): Promise<void> {
    if (group.length > 1 && (await runShared(this.pool, group)) === 'settled') return;
    await Promise.all(
      group.map((m) =>
        sqlTransaction(this.pool, m.work, m.options).then(
          (value) => m.resolve(value),
          (err: unknown) => m.reject(err),
        ),
      ),
    );
  }
}

export interface GroupLimits {
  maxInFlight: number;
  maxMembers: number;
}

interface Member {
  key: string;
  work: (tx: SqlTx) => Promise<unknown>;
  options: SqlTransactionOptions;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/** Thrown into a member's work when its shared transaction was abandoned: the member runs again alone. */
class GroupAbandoned extends Error {
  constructor() {
    super('the shared transaction was abandoned; its work runs again on a transaction of its own');
  }
}

/**
 * Runs the group as one transaction. `settled`: every member was resolved or rejected (committed, or
 * PostgreSQL unavailable); `alone`: the transaction was rolled back and each member must run again alone.
 */
async function runShared(pool: pg.Pool, group: Member[]): Promise<'settled' | 'alone'> {
  group.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const patience = Math.max(...group.map((m) => m.options.busyPoolPatienceMs ?? 0));
  let client: pg.PoolClient;
  try {
    client = await connect(pool, Date.now() + patience);
  } catch (err) {
    for (const m of group) m.reject(err);
    return 'settled';
  }
  const prepared = preparesStatements(pool);
  const physical = new SqlTx(client, prepared);
  const shared = new SharedTransaction(physical, group.length);
  const outcomes = await Promise.allSettled(
    group.map((m, i) => shared.work(m.work, new MemberTx(client, prepared, shared, physical, i))),
  );
  await shared.sent();
  const end = shared.outcome();
  let broken: Error | undefined;
  switch (end.kind) {
    case 'committed':
      outcomes.forEach((o, i) => (o.status === 'fulfilled' ? group[i]!.resolve(o.value) : group[i]!.reject(o.reason)));
      break;
    case 'unavailable':
      broken = end.err as Error;
      for (const m of group) m.reject(end.err);
      break;
    case 'abandoned':
      await shared.rollback().catch((err: Error) => (broken = err));
      break;
  }
  client.release(broken);
  return end.kind === 'abandoned' ? 'alone' : 'settled';
}

interface Request {
  kind: 'run' | 'commit';
  statements: readonly string[];
  resolve(rows: Record<string, unknown>[][]): void;
  reject(err: unknown): void;
}

type Outcome = { kind: 'committed' } | { kind: 'abandoned' } | { kind: 'unavailable'; err: unknown };

/**
 * The members' steps, merged: a message goes once every member still working has sent its next one (or
 * committed, or returned), carrying all of them in member order; the last one carries COMMIT. A member that
 * committed early gets its rows only once the COMMIT succeeded.
 */
class SharedTransaction {
  private readonly pending = new Map<number, Request>();
  private held: { rows: Record<string, unknown>[][]; request: Request }[] = [];
  private readonly closed = new Set<number>();
  private readonly locks = new Map<string, number>();
  private open: number;
  private sending: Promise<void> = Promise.resolve();
  private busy = false;
  private ended: Outcome | undefined;

  constructor(
    private readonly physical: SqlTx,
    members: number,
  ) {
    this.open = members;
  }

  async work<T>(work: (tx: SqlTx) => Promise<T>, tx: MemberTx): Promise<T> {
    try {
      const value = await work(tx);
      this.close(tx.index);
      return value;
    } catch (err) {
      this.close(tx.index);
      this.abandon();
      throw err;
    }
  }

  /** A member's next message; `commit` closes it (it sends nothing more). */
  request(index: number, kind: Request['kind'], statements: readonly string[]): Promise<Record<string, unknown>[][]> {
    if (this.ended) return Promise.reject(this.failure());
    if (this.pending.has(index)) {
      // Two messages of one member at once (statements sent in parallel on one transaction): not mergeable.
      this.abandon();
      return Promise.reject(this.failure());
    }
    return new Promise((resolve, reject) => {
      this.pending.set(index, { kind, statements, resolve, reject });
      if (kind === 'commit') this.close(index);
      this.flushIfReady();
    });
  }

  /** Locks only one member may hold (`SqlTx.exclusive`): another member's abandons the group. */
  exclusive(index: number, keys: readonly string[]): void {
    for (const key of keys) {
      const holder = this.locks.get(key);
      if (holder !== undefined && holder !== index) {
        this.abandon();
        throw this.failure();
      }
      this.locks.set(key, index);
    }
  }

  /** Rolls the shared transaction back (once abandoned and every member's work has settled). */
  rollback(): Promise<void> {
    return this.physical.rollback();
  }

  /** Resolves once no message is in flight. */
  async sent(): Promise<void> {
    while (this.busy) await this.sending;
  }

  outcome(): Outcome {
    return this.ended ?? { kind: 'abandoned' };
  }

  abandon(): void {
    this.end({ kind: 'abandoned' });
  }

  /** What the members' pending and later messages fail with: PostgreSQL's error when unavailable. */
  private failure(): Error {
    return this.ended?.kind === 'unavailable' ? (this.ended.err as Error) : new GroupAbandoned();
  }

  private close(index: number): void {
    if (this.closed.has(index)) return;
    this.closed.add(index);
    this.open--;
    this.flushIfReady();
  }

  private end(outcome: Outcome): void {
    if (this.ended) return;
    this.ended = outcome;
    const err = this.failure();
    for (const request of this.pending.values()) request.reject(err);
    this.pending.clear();
    for (const { request } of this.held) request.reject(err);
    this.held = [];
  }

  private flushIfReady(): void {
    if (this.ended || this.busy) return;
    let runs = 0;
    for (const r of this.pending.values()) if (r.kind === 'run') runs++;
    if (runs !== this.open) return;
    this.busy = true;
    this.sending = this.flush();
  }

  private async flush(): Promise<void> {
    const requests = [...this.pending.entries()].sort(([a], [b]) => a - b).map(([, r]) => r);
    this.pending.clear();
    // Each member's combinable calls come last in its message (`combinedLast`); the message sends them all as
    // one call per statement after every member's other statements, each member's still in member order.
    const all = requests.flatMap((r) => r.statements);
    const statements = [...all.filter((s) => !isCombined(s)), ...all.filter(isCombined)];
    const final = this.open === 0;
    let rows: Record<string, unknown>[][];
    try {
      const sent = final ? await this.physical.commit(statements) : await this.physical.run(statements);
      let plain = 0;
      rows = all.map((s) => (isCombined(s) ? [] : sent[plain++]!));
    } catch (err) {
      this.busy = false;
      this.end(isDatabaseUnavailable(err) ? { kind: 'unavailable', err } : { kind: 'abandoned' });
      for (const r of requests) r.reject(this.failure());
      return;
    }
    this.busy = false;
    if (this.ended) {
      for (const r of requests) r.reject(this.failure());
      return;
    }
    let at = 0;
    for (const request of requests) {
      const mine = rows.slice(at, at + request.statements.length);
      at += request.statements.length;
      if (request.kind === 'run') request.resolve(mine);
      else this.held.push({ rows: mine, request });
    }
    if (!final) {
      this.flushIfReady();
      return;
    }
    this.ended = { kind: 'committed' };
    for (const { rows: mine, request } of this.held) request.resolve(mine);
    this.held = [];
  }
}

/** A member's view of the shared transaction: the `SqlTx` its work is given. */
class MemberTx extends SqlTx {
  private done = false;

  constructor(
    client: pg.PoolClient,
    prepared: boolean,
    private readonly shared: SharedTransaction,
    private readonly physical: SqlTx,
    readonly index: number,
  ) {
    super(client, prepared);
  }

  /** As the shared transaction's own calls: its connection prepares the statement before the next message. */
  override call<P, R>(stmt: Statement<P, R>, values: P): SqlCall<R> {
    return this.physical.call(stmt, values);
  }

  override async run<const Q extends readonly string[]>(statements: Q): Promise<RowsOfEach<Q>> {
    if (this.done) throw new Error('SqlTx: the transaction has ended');
    combinedLast(statements);
    return (await this.shared.request(this.index, 'run', statements)) as RowsOfEach<Q>;
  }

  override async commit<const Q extends readonly string[]>(statements: Q = [] as unknown as Q): Promise<RowsOfEach<Q>> {
    if (this.done) {
      if (statements.length > 0) throw new Error('SqlTx: the transaction has ended');
      return [] as unknown as RowsOfEach<Q>;
    }
    combinedLast(statements);
    this.done = true;
    return (await this.shared.request(this.index, 'commit', statements)) as RowsOfEach<Q>;
  }

  /** A member cannot roll back its part alone: the group is abandoned, and every member runs again alone. */
  override async rollback(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.shared.abandon();
    return Promise.resolve();
  }

  override exclusive(keys: readonly string[]): void {
    this.shared.exclusive(this.index, keys);
  }
}
