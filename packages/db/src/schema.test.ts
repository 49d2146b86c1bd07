import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import * as db from './index.js';
import { defineStatement, definedStatements, sql, type Statement } from './sql.js';

/**
 * What pgtyped checks when it builds, checked here against the migrated
 * schema (ADR 0020): PostgreSQL parses every statement with its declared
 * parameter types and describes its rows, which must be the declared
 * columns, in order, of the declared types. A column renamed by a migration,
 * a type changed, a statement that no longer parses: this test fails.
 */

/** Parse + Describe of an unnamed statement, as a node-postgres submittable: its rows' fields, nothing run. */
class Describe implements pg.Submittable {
  private fields: { name: string; dataTypeID: number }[] = [];
  readonly done: Promise<{ name: string; dataTypeID: number }[]>;
  private settle!: (err: Error | undefined, fields: { name: string; dataTypeID: number }[]) => void;

  constructor(
    private readonly text: string,
    private readonly types: number[],
  ) {
    this.done = new Promise((resolve, reject) => {
      this.settle = (err, fields) => (err ? reject(err) : resolve(fields));
    });
  }

  submit(connection: pg.Connection): void {
    const protocol = connection as unknown as {
      parse(msg: { text: string; types: number[] }): void;
      describe(msg: { type: 'S' }): void;
      sync(): void;
    };
    protocol.parse({ text: this.text, types: this.types });
    protocol.describe({ type: 'S' });
    protocol.sync();
  }

  handleRowDescription(msg: { fields: { name: string; dataTypeID: number }[] }): void {
    this.fields = msg.fields.map(({ name, dataTypeID }) => ({ name, dataTypeID }));
  }

  /** The client stops routing messages to a query that failed: its ReadyForQuery comes to no one. */
  handleError(err: Error): void {
    this.settle(err, []);
  }

  handleReadyForQuery(): void {
    this.settle(undefined, this.fields);
  }

  handleEmptyQuery(): void {}
  handleCommandComplete(): void {}
  handleDataRow(): void {}
  handlePortalSuspended(): void {}
}

let database: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  database = await createTestDatabase();
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
});

afterAll(async () => {
  await client.end();
  await database.drop();
});

const oids = new Map<string, number>();
async function oidOf(type: string): Promise<number> {
  if (!oids.has(type)) {
    const { rows } = await client.query<{ oid: number }>('SELECT to_regtype($1)::oid AS oid', [type]);
    if (!rows[0]?.oid) throw new Error(`${type} is not a type of the migrated schema`);
    oids.set(type, rows[0].oid);
  }
  return oids.get(type)!;
}

async function typeName(oid: number): Promise<string> {
  const { rows } = await client.query<{ name: string }>('SELECT format_type($1, NULL) AS name', [oid]);
  return rows[0]!.name;
}

/** The statement's rows as PostgreSQL describes them, and as declared: `name type` per column, in order. */
async function described(stmt: Statement<unknown, unknown>) {
  const types: number[] = [];
  for (const type of stmt.types) types.push(await oidOf(type));
  const fields = await client.query(new Describe(stmt.text, types)).done;
  const declared: string[] = [];
  for (const [name, type] of Object.entries(stmt.columns))
    declared.push(`${name} ${await typeName(await oidOf(type))}`);
  const actual: string[] = [];
  for (const f of fields) actual.push(`${f.name} ${await typeName(f.dataTypeID)}`);
  return { actual, declared };
}

// Every statement defined by the package (the table modules), before this file defines its own.
const statements = definedStatements().map((s) => [s.name, s] as const);

it('sees every statement the package exports', () => {
  const exported = Object.values(db as Record<string, unknown>).filter(
    (v) => typeof v === 'object' && v !== null && 'columns' in v,
  );
  expect(exported.length).toBeGreaterThan(0);
  expect(statements.map(([, s]) => s)).toEqual(expect.arrayContaining(exported));
});

it.each(statements)('%s parses with its declared parameters and returns its declared columns', async (_name, stmt) => {
  const { actual, declared } = await described(stmt);
  expect(actual).toEqual(declared);
});

describe('the check itself', () => {
  it('sees a column declared with another type, a missing column, and a statement that does not parse', async () => {
    const wrongType = defineStatement({
      name: 'test_schema_wrong_type',
      params: { id: 'uuid' },
      row: { id: 'text', attempts: 'text' },
      sql: (p) => sql`SELECT id::text, attempts FROM deliveries WHERE id = ${p.id}`,
    });
    expect(await described(wrongType)).toEqual({
      actual: ['id text', 'attempts integer'],
      declared: ['id text', 'attempts text'],
    });
    const missing = defineStatement({
      name: 'test_schema_missing',
      row: { id: 'text', gone: 'int' },
      sql: () => sql`SELECT id::text FROM deliveries`,
    });
    expect(await described(missing)).toEqual({ actual: ['id text'], declared: ['id text', 'gone integer'] });
    const renamed = defineStatement({
      name: 'test_schema_renamed',
      row: { n: 'int' },
      sql: () => sql`SELECT attempt_count AS n FROM deliveries`,
    });
    await expect(described(renamed)).rejects.toThrow(/column "attempt_count" does not exist/);
  });
});
