import type pg from 'pg';
import { isDatabaseUnavailable, isTransactionConflict } from './errors.js';
import { orderedValues, sqlValue, type Statement } from './sql.js';

type SqlClient = pg.PoolClient;

/** What PREPARE and the inline mode need of a statement: its name, its parameters' types, its text with `$n`. */
type StatementText = Pick<Statement, 'name' | 'types' | 'text'>;

declare const rowsOf: unique symbol;
/** A statement called with its values, as SQL for `run` or `commit`, which then return rows of type R for it. */
export type SqlCall<R> = string & { readonly [rowsOf]: R };
/** The rows `run` returns for one of its statements: typed for a `tx.call`, plain records for SQL text. */
export type RowsOf<Q> = Q extends { readonly [rowsOf]: infer R } ? R[] : Record<string, unknown>[];
/** The rows of each statement of a message, in order. */
export type RowsOfEach<Q extends readonly string[]> = { -readonly [K in keyof Q]: RowsOf<Q[K]> };

/** Whether each pool runs statements prepared (the default) or inline (`createDb({ preparedStatements })`). */
const inlineMode = new WeakSet<pg.Pool>();
/** The statements each connection has prepared. */
const preparedOn = new WeakMap<SqlClient, Set<string>>();

export function setPreparedStatements(pool: pg.Pool, enabled: boolean): void {
  if (enabled) inlineMode.delete(pool);
  else inlineMode.add(pool);
}

/** The statement prepared under its name, as SQL: `PREPARE name (types) AS text`. */
export function prepareSql(stmt: StatementText): string {
  return `PREPARE ${stmt.name} (${stmt.types.join(', ')}) AS ${stmt.text}`;
}

/** The prepared statement called with these values (in the placeholders' order), as SQL: `EXECUTE name(…)`. */
export function executeSql(stmt: StatementText, values: readonly unknown[]): string {
  return `EXECUTE ${stmt.name}(${values.map((v, i) => sqlValue(v, stmt.types[i]!)).join(', ')})`;
}

/** The statement's text with the values (in the placeholders' order) written in as typed literals. */
export function inlineSql(stmt: StatementText, values: readonly unknown[]): string {
  return stmt.text.replace(
    /\$(\d+)/g,
    (_, n: string) => `(${sqlValue(values[Number(n) - 1], stmt.types[Number(n) - 1]!)})`,
  );
}

/** How a combinable call's placeholder begins (`SqlTx.call`): an SQL comment, never a statement of its own. */
const COMBINED = '/* combined call ';
let combinedCalls = 0;

/** Whether the statement is a combinable call's placeholder. */
export function isCombined(statement: string): boolean {
  return statement.startsWith(COMBINED);
}

/**
 * Refuses a message with a statement after a combinable call (`Statement.combinable`): the combinable calls are
 * sent after the message's other statements, so one of those after them would run before them, and not see
 * what they wrote.
 */
export function combinedLast(statements: readonly string[]): void {
  let combined = false;
  for (const s of statements) {
    if (isCombined(s)) combined = true;
    else if (combined) throw new Error('SqlTx: a combinable call must come after the other statements of its message');
  }
}

/**
 * One transaction on one connection, sent in as few messages as possible:
 * each `run` sends its statements as one simple-protocol message (the first
 * one also opens the transaction), and `commit` sends the last statements
 * together with COMMIT. In READ COMMITTED every statement of a message takes
 * a fresh snapshot, so a statement that follows a lock sees what the lock's
 * previous holder committed. Statements are either calls of a `Statement`
 * (`tx.call`, whose rows come back typed) or SQL text (values written as
 * literals with `sqlValue`).
 */
export class SqlTx {
  private begun = false;
  private ended = false;
  private readonly needed = new Map<string, StatementText>();
  /** The combinable calls not sent yet, by their placeholder. */
  private readonly combined = new Map<string, { stmt: Statement<unknown, unknown>; args: readonly unknown[] }>();

  constructor(
    private readonly client: SqlClient,
    private readonly prepared: boolean,
    private readonly transactional = true,
  ) {}

  /**
   * Says the work is about to take locks that stand for these keys (a capped partner's advisory lock), which
   * only one transaction may hold at a time. Nothing to do on a transaction of its own; a transaction sharing
   * its connection with others (`SqlTransactionGroups`) cannot let two of them hold one (PostgreSQL's locks are
   * the session's), and has them run again alone instead.
   */
  exclusive(_keys: readonly string[]): void {}

  /**
   * The statement called with these values, as SQL to pass to `run` or `commit`. A combinable statement's call
   * (`Statement.combinable`) is a placeholder: the message it is sent in sends all of them as one call per
   * statement, after its other statements (which is why they must come last in it: `combinedLast`).
   */
  call<P, R>(stmt: Statement<P, R>, values: P): SqlCall<R> {
    const args = orderedValues(stmt, values);
    if (!stmt.combinable) return this.sql(stmt, args) as SqlCall<R>;
    const placeholder = `${COMBINED}${++combinedCalls} ${stmt.name} */`;
    this.combined.set(placeholder, { stmt, args });
    return placeholder as SqlCall<R>;
  }

  private sql(stmt: Statement<unknown, unknown>, args: readonly unknown[]): string {
    if (!this.prepared || !stmt.prepared) return inlineSql(stmt, args);
    this.needed.set(stmt.name, stmt);
    return executeSql(stmt, args);
  }

  /** Runs the statements in the transaction; returns each one's rows, in order. */
  async run<const Q extends readonly string[]>(statements: Q): Promise<RowsOfEach<Q>> {
    if (this.ended) throw new Error('SqlTx: the transaction has ended');
    combinedLast(statements);
    const head = this.begun || !this.transactional ? [] : ['BEGIN'];
    this.begun = true;
    const rows = await this.send([...head, ...statements]);
    return rows.slice(head.length) as RowsOfEach<Q>;
  }

  /** One statement, run in the transaction in a message of its own; returns its rows. */
  async query<P, R>(stmt: Statement<P, R>, values: P): Promise<R[]> {
    const [rows] = await this.run([this.call(stmt, values)]);
    return rows;
  }

  /** Runs the statements, then commits, in one message; returns each statement's rows. */
  async commit<const Q extends readonly string[]>(statements: Q = [] as unknown as Q): Promise<RowsOfEach<Q>> {
    if (this.ended) {
      if (statements.length > 0) throw new Error('SqlTx: the transaction has ended');
      return [] as unknown as RowsOfEach<Q>;
    }
    combinedLast(statements);
    this.ended = true;
    // Nothing ran before: the statements alone are the transaction (one message is one implicit transaction).
    if (!this.begun || !this.transactional)
      return (statements.length > 0 ? await this.send(statements) : []) as RowsOfEach<Q>;
    try {
      return (await this.send(statements, ['COMMIT'])) as RowsOfEach<Q>;
    } catch (err) {
      // A statement before the COMMIT failed: the transaction is open and aborted, and must still be rolled back
      // before its connection goes back to the pool.
      this.ended = false;
      throw err;
    }
  }

  async rollback(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    if (this.begun && this.transactional) await this.client.query('ROLLBACK');
  }

  /**
   * Sends the statements as one message, the combinable calls among them as one call per statement after the
   * others, then `tail` (the COMMIT); returns the rows of each of `statements` (none for a combinable call).
   */
  private async send(
    statements: readonly string[],
    tail: readonly string[] = [],
  ): Promise<Record<string, unknown>[][]> {
    const plain: string[] = [];
    const combined = new Map<Statement<unknown, unknown>, (readonly unknown[])[]>();
    for (const s of statements) {
      const call = this.combined.get(s);
      if (!call) {
        plain.push(s);
        continue;
      }
      this.combined.delete(s);
      const calls = combined.get(call.stmt);
      if (calls) calls.push(call.args);
      else combined.set(call.stmt, [call.args]);
    }
    const merged = [...combined].map(([stmt, calls]) =>
      this.sql(
        stmt,
        stmt.params.map((_, i) => calls.flatMap((args) => args[i] as readonly unknown[])),
      ),
    );
    await this.prepare();
    const message = [...plain, ...merged, ...tail];
    const result = (await this.client.query(message.join(';\n'))) as unknown as pg.QueryResult | pg.QueryResult[];
    const rows = (Array.isArray(result) ? result : [result]).map((r) => r.rows as Record<string, unknown>[]);
    let at = 0;
    return statements.map((s) => (isCombined(s) ? [] : rows[at++]!));
  }

  /**
   * Prepares, in a message of its own, the statements this connection lacks
   * (once per connection: a prepared statement is the session's, and
   * survives the rollback of a transaction it was prepared in).
   */
  private async prepare(): Promise<void> {
    if (this.needed.size === 0) return;
    let done = preparedOn.get(this.client);
    if (!done) preparedOn.set(this.client, (done = new Set()));
    const missing = [...this.needed.values()].filter((s) => !done.has(s.name));
    this.needed.clear();
    if (missing.length === 0) return;
    await this.client.query(missing.map(prepareSql).join(';\n'));
    for (const s of missing) done.add(s.name);
  }
}

/** How many times `sqlTransaction` runs a transaction that PostgreSQL aborted on a conflict, with `retryConflicts`. */
export const CONFLICT_ATTEMPTS = 3;

export interface SqlTransactionOptions {
  /**
   * Run `work` again, from the start and on a fresh transaction (up to
   * CONFLICT_ATTEMPTS times in all), when PostgreSQL aborted it to break a
   * deadlock or a serialization failure. Only for work whose effects outside
   * the transaction happen after it returns: the operations lock many leads
   * at once and the worker one at a time, so a deadlock is unlikely but not
   * impossible (foreign-key share locks from other writers).
   */
  retryConflicts?: boolean;
  /**
   * How long to go on waiting for a connection when every one of the pool is
   * busy and the pool's own wait (`connectionTimeoutMillis`) ran out: for
   * work that records something that already happened outside, such as a
   * partner's answer, which failing would make happen again (the job is
   * retried and the lead sent twice). Nothing of the transaction has run when
   * it waits, so waiting again is always safe. Default 0: fail at once.
   */
  busyPoolPatienceMs?: number;
}

/**
 * Runs `work` in a transaction: committed when it returns (if it did not
 * commit itself), rolled back when it throws. A connection that failed
 * (or whose rollback failed) is discarded rather than given back to the pool.
 */
export async function sqlTransaction<T>(
  pool: pg.Pool,
  work: (tx: SqlTx) => Promise<T>,
  { retryConflicts = false, busyPoolPatienceMs = 0 }: SqlTransactionOptions = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await once(pool, work, Date.now() + busyPoolPatienceMs);
    } catch (err) {
      if (!retryConflicts || attempt >= CONFLICT_ATTEMPTS || !isTransactionConflict(err)) throw err;
    }
  }
}

/** pg-pool's error when no connection of the pool became free within `connectionTimeoutMillis`. */
const POOL_WAIT_TIMEOUT = 'timeout exceeded when trying to connect';

/** Whether the pool runs its statements prepared (`setPreparedStatements`). */
export function preparesStatements(pool: pg.Pool): boolean {
  return !inlineMode.has(pool);
}

/** A connection of the pool, waiting for one until `patientUntil` (epoch ms) when all are busy. */
export async function connect(pool: pg.Pool, patientUntil: number): Promise<pg.PoolClient> {
  for (;;) {
    try {
      return await pool.connect();
    } catch (err) {
      if (!(err instanceof Error && err.message === POOL_WAIT_TIMEOUT) || Date.now() >= patientUntil) throw err;
    }
  }
}

async function once<T>(pool: pg.Pool, work: (tx: SqlTx) => Promise<T>, patientUntil: number): Promise<T> {
  const client = await connect(pool, patientUntil);
  const tx = new SqlTx(client, !inlineMode.has(pool));
  let broken: Error | undefined;
  try {
    const result = await work(tx);
    await tx.commit();
    return result;
  } catch (err) {
    // A connection that failed is not given back: it may be dead, or still busy with a statement the client
    // stopped waiting for (a query timeout).
    if (isDatabaseUnavailable(err)) broken = err as Error;
    else await tx.rollback().catch((rollbackErr: Error) => (broken = rollbackErr));
    throw err;
  } finally {
    client.release(broken);
  }
}

/** Runs one statement outside any explicit transaction; returns its rows. */
export async function runStatement<P, R>(pool: pg.Pool, stmt: Statement<P, R>, values: P): Promise<R[]> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    const tx = new SqlTx(client, !inlineMode.has(pool), false);
    return await tx.query(stmt, values);
  } catch (err) {
    broken = err as Error;
    throw err;
  } finally {
    client.release(isDatabaseUnavailable(broken) ? broken : undefined);
  }
}
