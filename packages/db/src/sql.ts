import type {
  AttemptOutcome,
  CapPeriod,
  DeliveryStatus,
  FeedbackEventKind,
  FeedbackVia,
  LeadStatus,
  LedgerKind,
  LedgerParty,
  PayoutModel,
  PostbackEvent,
  PostbackStatus,
  ReturnStatus,
  RouteStrategy,
} from '@leadrouter/core';
import pg from 'pg';

// Typed statements (ADR 0020): a statement is declared once, with named
// parameters and the columns of its rows, each of an SQL type; the TypeScript
// types of its values and rows follow from those SQL types, and a test
// (`schema.test.ts`) has PostgreSQL describe every statement against the
// migrated schema and compares what it answers with what is declared.

/**
 * The SQL types statements use, and the TypeScript type of a value of each as
 * node-postgres reads it: `bigint` and `numeric` as text (exact; money is
 * never a float), `json`/`jsonb` as parsed JSON (`json<T>()` names its shape),
 * PostgreSQL's enums as their labels, typed by packages/core's state lists
 * (which packages/db/src/states.test.ts holds to the enums).
 */
interface SqlScalars {
  uuid: string;
  text: string;
  varchar: string;
  /** `char(n)`: compared as itself, so a look-up by a `char(64)` column keeps its index (a `text` parameter would not). */
  bpchar: string;
  int: number;
  bigint: string;
  numeric: string;
  boolean: boolean;
  timestamptz: Date;
  json: unknown;
  jsonb: unknown;
  /** What a function called for its effect returns (`pg_advisory_xact_lock`): node-postgres reads it as ''. */
  void: string;
  '"LeadStatus"': LeadStatus;
  '"DeliveryStatus"': DeliveryStatus;
  '"AttemptOutcome"': AttemptOutcome;
  '"PostbackStatus"': PostbackStatus;
  '"PostbackEvent"': PostbackEvent;
  '"RouteStrategy"': RouteStrategy;
  '"PayoutModel"': PayoutModel;
  '"LedgerParty"': LedgerParty;
  '"LedgerKind"': LedgerKind;
  '"FeedbackEventKind"': FeedbackEventKind;
  '"FeedbackVia"': FeedbackVia;
  '"ReturnStatus"': ReturnStatus;
  '"CapPeriod"': CapPeriod;
}
type Scalar = keyof SqlScalars;
/** An SQL type: a scalar or an array of one (`uuid[]`). */
export type SqlTypeName = Scalar | `${Scalar}[]`;

declare const tsType: unique symbol;
/** An SQL type with a narrower TypeScript type than its own (`json<RoutingRecord>()`). */
export interface Typed<T> {
  readonly sqlType: SqlTypeName | `${SqlTypeName} | null`;
  readonly [tsType]?: T;
}

/**
 * What a parameter or a column is declared as: an SQL type, `| null` when it
 * may be NULL (`'timestamptz | null'`), or `json<T>()` for a JSON value of a
 * known shape.
 */
export type SqlType = SqlTypeName | `${SqlTypeName} | null` | Typed<unknown>;

/** A `json` (or `jsonb`) value of shape T, as a parameter or a column: `json<Schedule | null>('jsonb | null')`. */
export function json<T>(sqlType: 'json' | 'jsonb' | 'json | null' | 'jsonb | null' = 'json'): Typed<T> {
  return { sqlType };
}

/** A value of SQL type `sqlType` that is always one of T: `typed<'replay' | 'accepted'>('text')`. */
export function typed<T>(sqlType: SqlTypeName | `${SqlTypeName} | null`): Typed<T> {
  return { sqlType };
}

/** A value as a parameter takes it: integers of `bigint` as bigint too, JSON as any object, arrays read-only. */
type ParamScalar<N extends Scalar> = N extends 'bigint'
  ? bigint | string
  : N extends 'json' | 'jsonb'
    ? object
    : SqlScalars[N];
/** An element of an array parameter: `jsonb[]` takes JSON texts. */
type ParamElement<N extends Scalar> = N extends 'bigint'
  ? bigint | string
  : N extends 'json' | 'jsonb'
    ? string
    : SqlScalars[N];
type ParamName<T extends string> = T extends `${infer E extends Scalar}[]`
  ? readonly (ParamElement<E> | null)[]
  : T extends Scalar
    ? ParamScalar<T>
    : never;
type RowName<T extends string> = T extends `${infer E extends Scalar}[]`
  ? SqlScalars[E][]
  : T extends Scalar
    ? SqlScalars[T]
    : never;

/** The TypeScript type of a parameter declared as T. */
export type ParamValue<T extends SqlType> =
  T extends Typed<infer U>
    ? U
    : T extends `${infer N} | null`
      ? ParamName<N> | null
      : T extends string
        ? ParamName<T>
        : never;
/** The TypeScript type of a column declared as T. */
export type ColumnValue<T extends SqlType> =
  T extends Typed<infer U>
    ? U
    : T extends `${infer N} | null`
      ? RowName<N> | null
      : T extends string
        ? RowName<T>
        : never;

export type SqlTypes = Readonly<Record<string, SqlType>>;
export type ParamsOf<S extends SqlTypes> = { readonly [K in keyof S]: ParamValue<S[K]> };
export type RowOf<S extends SqlTypes> = { [K in keyof S]: ColumnValue<S[K]> };

/** The SQL type (for PREPARE, casts and the schema test) of a declaration: `timestamptz | null` is `timestamptz`. */
export function sqlTypeOf(type: SqlType): SqlTypeName {
  const name = typeof type === 'string' ? type : type.sqlType;
  return name.replace(/ \| null$/, '') as SqlTypeName;
}

/** A named parameter inside a statement's text; it becomes `$n`. */
class Param {
  constructor(
    readonly name: string,
    readonly position: number,
  ) {}
}

/** A parameter as a statement's `sql` callback gets it, for helpers that write a part of several statements. */
export type SqlParam = Param;

/** A piece of statement text, with parameters in it (the `sql` tag); pieces nest. */
export class SqlFragment {
  constructor(readonly parts: readonly (string | Param)[]) {}
}

/**
 * Statement text with named parameters: `` sql`… WHERE id = ${p.leadId}` ``.
 * Only parameters and other fragments can be put in, never a value: values
 * go with each call, as typed literals or prepared-statement arguments.
 */
export function sql(strings: TemplateStringsArray, ...values: (Param | SqlFragment)[]): SqlFragment {
  const parts: (string | Param)[] = [];
  strings.forEach((s, i) => {
    parts.push(s);
    const value = values[i];
    if (value instanceof SqlFragment) parts.push(...value.parts);
    else if (value instanceof Param) parts.push(value);
    else if (i < values.length) throw new Error('sql: only parameters and sql fragments can be put into a statement');
  });
  return new SqlFragment(parts);
}

declare const declared: unique symbol;

/**
 * A statement declared once (`defineStatement`): its text with `$1`, `$2`…
 * in the order its parameters are declared, their SQL types, and the
 * columns of its rows. It runs either as a server-side prepared statement
 * of its own stable name (`EXECUTE name(…)`, planned once per connection;
 * ADR 0010) or, when prepared statements are off for the pool or `prepared`
 * is false, as its text with the values written in as typed literals.
 * Either way it can share one simple-protocol message with other statements.
 */
export interface Statement<P = Record<string, unknown>, R = Record<string, unknown>> {
  readonly name: string;
  /** The SQL type of `$1`, `$2`…: the declared parameters, in order. */
  readonly types: readonly SqlTypeName[];
  /** The parameters' names, in the order of their placeholders. */
  readonly params: readonly string[];
  readonly text: string;
  /** The declared columns of its rows and their SQL types (none: it returns no rows). */
  readonly columns: Readonly<Record<string, SqlTypeName>>;
  /**
   * Whether it runs prepared where it can (the hot statements), or always as
   * text, planned for its values each time (the occasional ones: the sweeper's,
   * the operations', whose best plan depends on the values).
   */
  readonly prepared: boolean;
  /**
   * Whether the calls of one message may be sent as one call (`SqlTx`): every parameter is an array with one
   * element per row written, and it returns no rows, so several calls are one call of the arrays concatenated.
   * A transaction sends them after the message's other statements, just before its COMMIT when it has one: the
   * ledger's lines of a group of feedback events or of the worker's sales are one INSERT, and its rollup trigger
   * runs once for them.
   */
  readonly combinable: boolean;
  readonly [declared]?: { params: P; row: R };
}

export type StatementParams<S> = S extends Statement<infer P, unknown> ? P : never;
export type StatementRow<S> = S extends Statement<Record<string, unknown>, infer R> ? R : never;

const defined = new Map<string, Statement>();

/** Every statement defined in this process, by name (the schema test describes each). */
export function definedStatements(): readonly Statement[] {
  return [...defined.values()];
}

/**
 * Declares a statement: its stable name, its parameters (named, with SQL
 * types), the columns of its rows, and its text, written with the
 * parameters as `` sql`… ${p.name} …` ``. A parameter may appear any number
 * of times; each must appear at least once.
 */
export function defineStatement<
  const PS extends SqlTypes = Record<never, SqlType>,
  const RS extends SqlTypes = Record<never, SqlType>,
>(def: {
  name: string;
  params?: PS;
  row?: RS;
  prepared?: boolean;
  combinable?: boolean;
  sql: (p: { readonly [K in keyof PS]: Param }) => SqlFragment;
}): Statement<ParamsOf<PS>, RowOf<RS>> {
  const { name } = def;
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`statement: ${name} is not a valid name`);
  if (defined.has(name)) throw new Error(`statement: ${name} is defined twice`);
  const declaredParams = Object.entries(def.params ?? {});
  const refs = Object.fromEntries(declaredParams.map(([key], i) => [key, new Param(key, i + 1)])) as {
    [K in keyof PS]: Param;
  };
  const used = new Set<string>();
  const text = def
    .sql(refs)
    .parts.map((part) => {
      if (typeof part !== 'string') {
        used.add(part.name);
        return `$${part.position}`;
      }
      // The inline mode replaces `$n`: a `$` and a digit may only be a placeholder.
      if (/\$\d/.test(part)) throw new Error(`statement ${name}: write parameters as \${p.name}, not $n`);
      return part;
    })
    .join('');
  const unused = declaredParams.filter(([key]) => !used.has(key)).map(([key]) => key);
  if (unused.length > 0) throw new Error(`statement ${name}: parameters not used: ${unused.join(', ')}`);
  const combinable = def.combinable ?? false;
  if (
    combinable &&
    (Object.keys(def.row ?? {}).length > 0 || declaredParams.some(([, t]) => !sqlTypeOf(t).endsWith('[]')))
  )
    throw new Error(`statement ${name}: a combinable statement takes only arrays and returns no rows`);
  const stmt: Statement<ParamsOf<PS>, RowOf<RS>> = {
    name,
    types: declaredParams.map(([, type]) => sqlTypeOf(type)),
    params: declaredParams.map(([key]) => key),
    text,
    columns: Object.fromEntries(Object.entries(def.row ?? {}).map(([key, type]) => [key, sqlTypeOf(type)])),
    prepared: def.prepared ?? true,
    combinable,
  };
  defined.set(name, stmt);
  return stmt;
}

/** The values of a call, in the order of the statement's placeholders. */
export function orderedValues<P>(stmt: Statement<P, unknown>, values: P): unknown[] {
  return stmt.params.map((key) => {
    const value = (values as Record<string, unknown>)[key];
    if (value === undefined) throw new Error(`${stmt.name}: no value for ${key}`);
    return value;
  });
}

const isJson = (type: string) => type === 'json' || type === 'jsonb';

/** The value as an SQL expression of the given type, e.g. `'…'::uuid`; JSON types take any value, as JSON. */
export function sqlValue(value: unknown, type: string): string {
  if (value === null) return `NULL::${type}`;
  if (isJson(type)) return `${pg.escapeLiteral(JSON.stringify(value))}::${type}`;
  if (Array.isArray(value)) {
    const element = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v));
    const elements = value.map((v) => (v === null ? 'NULL' : `"${element(v).replace(/[\\"]/g, '\\$&')}"`));
    return `${pg.escapeLiteral(`{${elements.join(',')}}`)}::${type}`;
  }
  if (value instanceof Date) return `${pg.escapeLiteral(value.toISOString())}::${type}`;
  if (typeof value === 'object') return `${pg.escapeLiteral(JSON.stringify(value))}::${type}`;
  if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`sqlValue: ${value} is not a number`);
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'bigint' && typeof value !== 'boolean')
    throw new Error(`sqlValue: cannot write a value of type ${typeof value} as ${type}`);
  return `${pg.escapeLiteral(String(value))}::${type}`;
}
