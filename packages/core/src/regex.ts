import { RE2JS } from 're2js';
import type { FieldError } from './errors.js';

/**
 * The `regex` filter's patterns: RE2 syntax, matched by RE2JS (a JavaScript
 * port of RE2) in time linear in the input, so no pattern and no lead can
 * stall routing (ADR 0013). RE2 has no backreferences and no lookaround;
 * inline flags such as `(?i)` work.
 */

/** The longest pattern a `regex` condition takes, in characters. */
export const REGEX_MAX_LENGTH = 500;

/**
 * The largest compiled pattern, in RE2 instructions. Matching costs at most
 * (instructions × input characters): this bounds each test against a lead
 * field (at most 1,000 characters) to milliseconds. Real filters stay far
 * below it: a 50-state alternation compiles to 62, 100 zip prefixes to 221.
 */
export const REGEX_MAX_PROGRAM = 500;

export type CompiledRegex = { ok: true; test: (input: string) => boolean } | { ok: false; error: string };

/** Compiled patterns (and why the unusable ones are), by pattern: each compiles once per process. */
const compiled = new Map<string, CompiledRegex>();
const CACHE_SIZE = 1000;

/**
 * The pattern, compiled, or why it cannot be used. Never throws: a pattern
 * stored before it was checked (or written to the database directly) is
 * reported, not raised.
 */
export function compileRegex(pattern: string): CompiledRegex {
  let re = compiled.get(pattern);
  if (!re) {
    re = compile(pattern);
    if (compiled.size >= CACHE_SIZE) compiled.delete(compiled.keys().next().value!);
    compiled.set(pattern, re);
  }
  return re;
}

function compile(pattern: string): CompiledRegex {
  // Before compiling: compile time grows with what a long pattern can expand to.
  if (pattern.length > REGEX_MAX_LENGTH) return { ok: false, error: `is longer than ${REGEX_MAX_LENGTH} characters` };
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (err) {
    const reason = err instanceof Error ? err.message.replace(/^error parsing regexp: /, '') : String(err);
    return { ok: false, error: `is not a valid RE2 pattern: ${reason}` };
  }
  const size = re.programSize();
  if (size > REGEX_MAX_PROGRAM) {
    return {
      ok: false,
      error: `is too complex: it compiles to ${size} RE2 instructions, at most ${REGEX_MAX_PROGRAM} are allowed (use smaller {n} repeats, or split it into several conditions)`,
    };
  }
  return { ok: true, test: (input) => re.test(input) };
}

/**
 * Problems with the `regex` conditions of a filters object, addressed by JSON
 * pointer under `at` (e.g. `/filters/fields/0/value`). It reads input of any
 * shape, so a request body gets these errors with its schema errors; a value
 * that is not a string is left to the schema.
 */
export function regexErrors(filters: unknown, at: string): FieldError[] {
  if (typeof filters !== 'object' || filters === null) return [];
  const fields = (filters as { fields?: unknown }).fields;
  if (!Array.isArray(fields)) return [];
  return fields.flatMap((c: unknown, i): FieldError[] => {
    if (typeof c !== 'object' || c === null) return [];
    const { op, value } = c as { op?: unknown; value?: unknown };
    if (op !== 'regex' || typeof value !== 'string') return [];
    const re = compileRegex(value);
    return re.ok ? [] : [{ field: `${at}/fields/${i}/value`, message: re.error }];
  });
}
