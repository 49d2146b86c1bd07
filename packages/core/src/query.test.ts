import { checkQuery, queryValidator } from './query';
import { DateTime, List, OneOf, Type } from './schema';
import type { AppError } from './errors';

// A query's schema, as the route table writes one: every parameter optional.
const schema = Type.Object({
  status: Type.Optional(List(['pending', 'approved', 'rejected'], { example: 'pending' })),
  partner: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  since: Type.Optional(DateTime({ maxLength: 40 })),
  format: Type.Optional(OneOf(['json', 'csv'])),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
});
const read = queryValidator<{ status?: string; partner?: string; since?: string; format?: string; limit?: number }>(
  schema,
);

describe('a query validated by its schema', () => {
  it('takes the parameters as text, coercing numbers, and leaves the raw query as it came', () => {
    const raw = { status: ' pending , approved', limit: '20', since: '2026-01-31T10:00:00Z' };
    expect(read(raw)).toEqual({
      value: { status: ' pending , approved', limit: 20, since: '2026-01-31T10:00:00Z' },
      problems: [],
    });
    expect(raw.limit).toBe('20');
    expect(read({})).toEqual({ value: {}, problems: [] });
  });

  it('finds every problem, one a parameter, in the words of the schema, and leaves the bad parameters out', () => {
    const { value, problems } = read({
      status: 'pending,sold,',
      partner: '',
      since: 'yesterday',
      format: 'xml',
      limit: '501',
      colour: 'red',
    });
    expect(value).toEqual({});
    expect(problems).toEqual([
      { field: 'colour', message: 'is not a parameter here (use status, partner, since, format, limit)' },
      {
        field: 'status',
        message: 'must be one or more (comma-separated) of pending, approved, rejected; got "sold", ""',
      },
      { field: 'partner', message: 'must be 1 to 200 characters' },
      { field: 'since', message: 'must be an ISO 8601 date-time with a zone, e.g. 2026-01-31T00:00:00Z' },
      { field: 'format', message: 'must be one of json, csv; got "xml"' },
      { field: 'limit', message: 'must be an integer from 1 to 500' },
    ]);
  });

  it('takes a number in decimal digits only, and a parameter given once', () => {
    for (const limit of ['1e2', ' 12', '0x10', '12.0', '', 'abc', '0'])
      expect(read({ limit }).problems).toEqual([{ field: 'limit', message: 'must be an integer from 1 to 500' }]);
    expect(read({ partner: ['a', 'b'], limit: ['1', '2'] }).problems).toEqual([
      { field: 'partner', message: 'must be given once' },
      { field: 'limit', message: 'must be given once' },
    ]);
  });

  it('answers one 422 with the reader’s problems among the schema’s, in the order of the parameters', () => {
    const { problems } = read({ limit: 'x', colour: 'red' });
    problems.push({ field: 'partner', message: 'no partner has this id or name' });
    let thrown: AppError | undefined;
    try {
      checkQuery(schema, problems);
    } catch (err) {
      thrown = err as AppError;
    }
    expect(thrown?.httpStatus).toBe(422);
    expect(thrown?.details.errors).toEqual([
      { field: 'colour', message: 'is not a parameter here (use status, partner, since, format, limit)' },
      { field: 'partner', message: 'no partner has this id or name' },
      { field: 'limit', message: 'must be an integer from 1 to 500' },
    ]);
    expect(() => checkQuery(schema, [])).not.toThrow();
  });
});
