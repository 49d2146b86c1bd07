import pg from 'pg';
import { isDatabaseUnavailable } from './errors.js';

type SqlClient = pg.PoolClient;

/**
 * A hot-path statement with `$1`, `$2`… placeholders of declared types. It
 * runs either as a server-side prepared statement (`EXECUTE name(…)`, the
 * plan made once per connection) or, when prepared statements are off for
 * the pool, as its text with the values written in as literals. Either way
 * it can share one simple-protocol message with other statements, so a
 * transaction still costs one round trip per step (docs/performance.md,
 * ADR 0010). The text must not contain `$` other than the placeholders.
 */
export interface Statement {
  readonly name: string;
  readonly types: readonly string[];
  readonly text: string;
}

const names = new Set<string>();

export function statement(name: string, types: readonly string[], text: string): Statement {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`statement: ${name} is not a valid name`);
  if (names.has(name)) throw new Error(`statement: ${name} is defined twice`);
  names.add(name);
  const used = Math.max(0, ...[...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
  if (used !== types.length) throw new Error(`statement ${name}: ${types.length} types for ${used} placeholders`);
  return { name, types, text };
}

/** A value for a placeholder: arrays become SQL arrays, objects JSON, dates ISO timestamps. */
export type SqlArg = string | number | bigint | boolean | null | Date | object | readonly (string | null)[];

/** The value as an SQL expression of the given type, e.g. `'…'::uuid`. */
export function sqlValue(value: SqlArg, type: string): string {
  if (value === null) return `NULL::${type}`;
  if (Array.isArray(value)) {
    const elements = value.map((v) => (v === null ? 'NULL' : `"${String(v).replace(/[\\"]/g, '\\$&')}"`));
    return `${pg.escapeLiteral(`{${elements.join(',')}}`)}::${type}`;
  }
  if (value instanceof Date) return `${pg.escapeLiteral(value.toISOString())}::${type}`;
  if (typeof value === 'object') return `${pg.escapeLiteral(JSON.stringify(value))}::${type}`;
  if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`sqlValue: ${value} is not a number`);
  return `${pg.escapeLiteral(String(value))}::${type}`;
}

/** Whether each pool runs statements prepared (the default) or inline (`createDb({ preparedStatements })`). */
const inlineMode = new WeakSet<pg.Pool>();
/** The statements each connection has prepared. */
const preparedOn = new WeakMap<SqlClient, Set<string>>();

export function setPreparedStatements(pool: pg.Pool, enabled: boolean): void {
  if (enabled) inlineMode.delete(pool);
  else inlineMode.add(pool);
}

/**
 * One transaction on one connection, sent in as few messages as possible:
 * each `run` sends its statements as one simple-protocol message (the first
 * one also opens the transaction), and `commit` sends the last statements
 * together with COMMIT. In READ COMMITTED every statement of a message takes
 * a fresh snapshot, so a statement that follows a lock sees what the lock's
 * previous holder committed. Statements are either SQL text (values written
 * as literals with `sqlValue`) or calls of a `Statement` (`tx.call`).
 */
export class SqlTx {
  private begun = false;
  private ended = false;
  private readonly needed = new Map<string, Statement>();

  constructor(
    private readonly client: SqlClient,
    private readonly prepared: boolean,
    private readonly transactional = true,
  ) {}

  /** The statement called with these values, as SQL to pass to `run` or `commit`. */
  call(stmt: Statement, ...args: SqlArg[]): string {
    if (args.length !== stmt.types.length)
      throw new Error(`${stmt.name}: ${args.length} values for ${stmt.types.length}`);
    const values = args.map((arg, i) => sqlValue(arg, stmt.types[i]!));
    if (!this.prepared) return stmt.text.replace(/\$(\d+)/g, (_, n: string) => `(${values[Number(n) - 1]!})`);
    this.needed.set(stmt.name, stmt);
    return `EXECUTE ${stmt.name}(${values.join(', ')})`;
  }

  /** Runs the statements in the transaction; returns each one's rows, in order. */
  async run(statements: string[]): Promise<Record<string, unknown>[][]> {
    if (this.ended) throw new Error('SqlTx: the transaction has ended');
    const head = this.begun || !this.transactional ? [] : ['BEGIN'];
    this.begun = true;
    const rows = await this.send([...head, ...statements]);
    return rows.slice(head.length);
  }

  /** Runs the statements, then commits, in one message; returns each statement's rows. */
  async commit(statements: string[] = []): Promise<Record<string, unknown>[][]> {
    if (this.ended) {
      if (statements.length > 0) throw new Error('SqlTx: the transaction has ended');
      return [];
    }
    this.ended = true;
    // Nothing ran before: the statements alone are the transaction (one message is one implicit transaction).
    if (!this.begun || !this.transactional) return statements.length > 0 ? this.send(statements) : [];
    const rows = await this.send([...statements, 'COMMIT']);
    return rows.slice(0, statements.length);
  }

  async rollback(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    if (this.begun && this.transactional) await this.client.query('ROLLBACK');
  }

  private async send(statements: string[]): Promise<Record<string, unknown>[][]> {
    await this.prepare();
    const result = (await this.client.query(statements.join(';\n'))) as unknown as pg.QueryResult | pg.QueryResult[];
    return (Array.isArray(result) ? result : [result]).map((r) => r.rows as Record<string, unknown>[]);
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
    await this.client.query(missing.map((s) => `PREPARE ${s.name} (${s.types.join(', ')}) AS ${s.text}`).join(';\n'));
    for (const s of missing) done.add(s.name);
  }
}

/**
 * Runs `work` in a transaction: committed when it returns (if it did not
 * commit itself), rolled back when it throws. A connection that failed
 * (or whose rollback failed) is discarded rather than given back to the pool.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (tx: SqlTx) => Promise<T>): Promise<T> {
  const client = await pool.connect();
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
export async function runStatement<T = Record<string, unknown>>(
  pool: pg.Pool,
  stmt: Statement,
  ...args: SqlArg[]
): Promise<T[]> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    const tx = new SqlTx(client, !inlineMode.has(pool), false);
    const [rows = []] = await tx.run([tx.call(stmt, ...args)]);
    return rows as T[];
  } catch (err) {
    broken = err as Error;
    throw err;
  } finally {
    client.release(isDatabaseUnavailable(broken) ? broken : undefined);
  }
}
