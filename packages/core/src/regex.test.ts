import { compileRegex, regexErrors, REGEX_MAX_LENGTH, REGEX_MAX_PROGRAM } from './regex';

const test = (pattern: string, input: string) => {
  const re = compileRegex(pattern);
  if (!re.ok) throw new Error(`${pattern} ${re.error}`);
  return re.test(input);
};
const error = (pattern: string) => {
  const re = compileRegex(pattern);
  return re.ok ? undefined : re.error;
};

describe('compileRegex', () => {
  it('finds RE2 patterns anywhere in the value unless anchored', () => {
    expect(test('@gmail\\.com$', 'john@gmail.com')).toBe(true);
    expect(test('gmail', 'john@gmail.com')).toBe(true);
    expect(test('^gmail', 'john@gmail.com')).toBe(false);
    expect(test('^\\+1415\\d{7}$', '+14155550100')).toBe(true);
  });

  it('takes inline flags: (?i) for case-insensitive', () => {
    expect(test('(?i)^john', 'JOHN Doe')).toBe(true);
    expect(test('^john', 'JOHN Doe')).toBe(false);
  });

  it('matches characters, not UTF-16 units', () => {
    expect(test('^.$', '😀')).toBe(true);
    expect(test('^\\p{L}+$', 'Zoë')).toBe(true);
  });

  it('answers the catastrophic backtracking pattern at once, on any input', () => {
    const started = Date.now();
    // A backtracking engine (JavaScript's RegExp) takes minutes on 31 characters, and doubles with each one more.
    expect(test('^([a-zA-Z0-9]+)+$', `${'a'.repeat(31)}!`)).toBe(false);
    expect(test('^([a-zA-Z0-9]+)+$', `${'a'.repeat(5000)}!`)).toBe(false);
    expect(test('^([a-zA-Z0-9]+)+$', 'a'.repeat(5000))).toBe(true);
    expect(test('(x+x+)+y', 'x'.repeat(5000))).toBe(false);
    // A sanity bound, generous for a loaded machine: linear time is milliseconds here.
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses what RE2 does not have: backreferences, lookaround, possessive repeats', () => {
    expect(error('(a)\\1')).toMatch(/^is not a valid RE2 pattern: invalid escape sequence/);
    expect(error('a(?=b)')).toMatch(/^is not a valid RE2 pattern: .*\(\?=/);
    expect(error('a(?!b)')).toMatch(/^is not a valid RE2 pattern: .*\(\?!/);
    expect(error('(?<=a)b')).toMatch(/^is not a valid RE2 pattern/);
    expect(error('(?<!a)b')).toMatch(/^is not a valid RE2 pattern/);
    expect(error('a++')).toMatch(/^is not a valid RE2 pattern/);
  });

  it('refuses a pattern that does not compile, saying why', () => {
    expect(error('(')).toBe('is not a valid RE2 pattern: missing closing ): `(`');
    expect(error('[a-')).toMatch(/^is not a valid RE2 pattern: missing closing ]/);
    expect(error('a{1001}')).toMatch(/^is not a valid RE2 pattern: invalid repeat count/);
  });

  it('refuses patterns too long or too complex to match quickly', () => {
    expect(error('a'.repeat(REGEX_MAX_LENGTH + 1))).toBe(`is longer than ${REGEX_MAX_LENGTH} characters`);
    expect(error(`^${'a'.repeat(REGEX_MAX_LENGTH - 10)}`)).toBeUndefined();
    // Short, but it compiles to thousands of instructions: each character of input would cost them all.
    expect(error('(a|aa|aaa|aaaa|b){1000}c')).toMatch(
      new RegExp(`^is too complex: it compiles to \\d+ RE2 instructions, at most ${REGEX_MAX_PROGRAM}`),
    );
    // Real filters fit easily: the 50 states, as an alternation.
    const states =
      'AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY';
    expect(error(`^(${states.replace(/ /g, '|')})$`)).toBeUndefined();
  });

  it('compiles each pattern once, and remembers the ones that do not compile', () => {
    expect(compileRegex('^a+$')).toBe(compileRegex('^a+$'));
    expect(compileRegex('(')).toBe(compileRegex('('));
  });
});

describe('regexErrors', () => {
  it('points at every regex value that cannot be used', () => {
    const filters = {
      fields: [
        { field: 'fields.a', op: 'regex', value: '(' },
        { field: 'fields.b', op: 'eq', value: '(' },
        { field: 'fields.c', op: 'regex', value: '^ok$' },
        { field: 'fields.d', op: 'regex', value: '(a)\\1' },
      ],
    };
    expect(regexErrors(filters, '/filters')).toEqual([
      { field: '/filters/fields/0/value', message: expect.stringContaining('missing closing )') },
      { field: '/filters/fields/3/value', message: expect.stringContaining('invalid escape sequence') },
    ]);
  });

  it('reads input of any shape, leaving what is not a pattern to the schema', () => {
    for (const filters of [undefined, null, 'x', [], { fields: 'x' }, { fields: [null, 1, { op: 'regex', value: 5 }] }])
      expect(regexErrors(filters, '/filters')).toEqual([]);
  });
});
