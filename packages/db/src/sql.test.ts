import { defineStatement, json, orderedValues, sql, sqlValue, type StatementParams, type StatementRow } from './sql.js';

const ADVANCE_LIKE = defineStatement({
  name: 'test_sql_named',
  params: { leadId: 'uuid', dueAt: 'timestamptz | null', partners: 'uuid[]', status: '"LeadStatus" | null' },
  row: { id: 'text', routing: json<{ maxDeliveries: number } | null>('jsonb | null'), at: 'timestamptz' },
  sql: (p) => sql`SELECT id::text, routing, ${p.dueAt} AS at FROM leads
    WHERE id = ${p.leadId} AND (${p.status} IS NULL OR status = ${p.status}) AND partner_id = ANY(${p.partners})`,
});

describe('defineStatement', () => {
  it('numbers the named parameters in the order they are declared, each name one placeholder however often used', () => {
    expect(ADVANCE_LIKE.text).toBe(`SELECT id::text, routing, $2 AS at FROM leads
    WHERE id = $1 AND ($4 IS NULL OR status = $4) AND partner_id = ANY($3)`);
    expect(ADVANCE_LIKE.params).toEqual(['leadId', 'dueAt', 'partners', 'status']);
    expect(ADVANCE_LIKE.types).toEqual(['uuid', 'timestamptz', 'uuid[]', '"LeadStatus"']);
    expect(ADVANCE_LIKE.columns).toEqual({ id: 'text', routing: 'jsonb', at: 'timestamptz' });
    expect(ADVANCE_LIKE.prepared).toBe(true);
  });

  it('takes the values by name, in the placeholders’ order, and refuses a missing one', () => {
    const at = new Date();
    expect(orderedValues(ADVANCE_LIKE, { status: null, partners: ['p'], leadId: 'l', dueAt: at })).toEqual([
      'l',
      at,
      ['p'],
      null,
    ]);
    expect(() =>
      orderedValues(ADVANCE_LIKE, { leadId: 'l', partners: [], status: null } as unknown as StatementParams<
        typeof ADVANCE_LIKE
      >),
    ).toThrow('test_sql_named: no value for dueAt');
  });

  it('types values and rows from the declared SQL types', () => {
    type Params = StatementParams<typeof ADVANCE_LIKE>;
    type Row = StatementRow<typeof ADVANCE_LIKE>;
    const params: Params = { leadId: 'l', dueAt: null, partners: ['p', null], status: 'routing' };
    // @ts-expect-error: not a lead status
    const badStatus: Params = { ...params, status: 'sold' };
    // @ts-expect-error: declared NOT NULL
    const nullLead: Params = { ...params, leadId: null };
    const row: Row = { id: 'x', routing: { maxDeliveries: 2 }, at: new Date() };
    // @ts-expect-error: a timestamptz column is a Date
    const badRow: Row = { ...row, at: '2026-01-01' };
    expect([badStatus, nullLead, badRow]).toHaveLength(3);
  });

  it('refuses a bad name, a name used twice, an unused parameter, a positional placeholder and a value put in', () => {
    expect(() => defineStatement({ name: 'bad name', sql: () => sql`SELECT 1` })).toThrow(/not a valid name/);
    expect(() => defineStatement({ name: 'test_sql_named', sql: () => sql`SELECT 1` })).toThrow(/defined twice/);
    expect(() => defineStatement({ name: 'test_sql_unused', params: { a: 'int' }, sql: () => sql`SELECT 1` })).toThrow(
      'statement test_sql_unused: parameters not used: a',
    );
    expect(() =>
      defineStatement({ name: 'test_sql_positional', params: { a: 'int' }, sql: (p) => sql`SELECT ${p.a}, $1` }),
    ).toThrow(/not \$n/);
    expect(() =>
      defineStatement({
        name: 'test_sql_value',
        // @ts-expect-error: a value, not a parameter
        sql: () => sql`SELECT ${'1; DROP TABLE leads'}`,
      }),
    ).toThrow(/only parameters and sql fragments/);
  });

  it('nests fragments, their parameters numbered as the statement’s', () => {
    const columns = sql`id, name`;
    const stmt = defineStatement({
      name: 'test_sql_nested',
      params: { a: 'int', b: 'text' },
      sql: (p) => sql`SELECT ${columns} FROM t WHERE b = ${p.b} AND ${sql`a = ${p.a}`}`,
    });
    expect(stmt.text).toBe('SELECT id, name FROM t WHERE b = $2 AND a = $1');
  });
});

describe('sqlValue', () => {
  it('writes values as typed SQL expressions; a JSON type takes any value as JSON, arrays too', () => {
    expect(sqlValue(null, 'uuid')).toBe('NULL::uuid');
    expect(sqlValue("it's", 'text')).toBe("'it''s'::text");
    expect(sqlValue({ a: "'" }, 'jsonb')).toBe(`'{"a":"''"}'::jsonb`);
    expect(sqlValue(['a', 1], 'jsonb')).toBe(`'["a",1]'::jsonb`);
    expect(sqlValue(['a', null, 'b c'], 'text[]')).toBe(`'{"a",NULL,"b c"}'::text[]`);
    expect(sqlValue([new Date('2026-01-02T03:04:05.678Z')], 'timestamptz[]')).toBe(
      `'{"2026-01-02T03:04:05.678Z"}'::timestamptz[]`,
    );
    expect(sqlValue(new Date('2026-01-02T03:04:05.678Z'), 'timestamptz')).toBe(
      "'2026-01-02T03:04:05.678Z'::timestamptz",
    );
    expect(() => sqlValue(Number.NaN, 'int')).toThrow(/not a number/);
  });
});
