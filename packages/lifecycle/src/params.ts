import { queryValidator, type FieldError, type QueryReading, type QuerySchema } from '@leadrouter/core';
import { decodeCursor, DEFAULT_LIMIT, MAX_LIMIT, type Cursor } from '@leadrouter/api';

/** Query parameters or CLI options as given: strings (an array when a parameter is repeated), or absent. */
export type RawParams = Record<string, unknown>;

export { DEFAULT_LIMIT, MAX_LIMIT };

/*
 * Parameters are validated by the query schema of the route that takes them (@leadrouter/api's table; ADR 0019):
 * the ingest's `bind` does it for a request, `readParams` below for the CLI, which takes the same parameters as
 * options. A reader (`readDeadLetterQuery`, …) then does what no JSON Schema states — a cursor, a name to look
 * up, `since` before `until` — adding its problems to the schema's, so one 422 lists them all.
 */

const validators = new WeakMap<QuerySchema, (raw: RawParams) => QueryReading<unknown>>();

/** `raw` validated by `schema` (compiled once): the parameters that passed, and every problem. */
export function readParams<T>(schema: QuerySchema, raw: RawParams): QueryReading<T> {
  let validate = validators.get(schema);
  if (!validate) validators.set(schema, (validate = queryValidator(schema)));
  return validate(raw) as QueryReading<T>;
}

/** The values of a comma-separated list its schema accepted (`List`), each once. */
export function listOf<T extends string>(v: string | undefined): T[] | undefined {
  return v === undefined ? undefined : ([...new Set(v.split(',').map((s) => s.trim()))] as T[]);
}

/** A page's `cursor`: the `nextCursor` of a previous page, or a problem. */
export function cursorOf(v: string | undefined, problems: FieldError[], field = 'cursor'): Cursor | undefined {
  if (v === undefined) return undefined;
  const c = decodeCursor(v);
  if (!c) problems.push({ field, message: 'must be the nextCursor of a previous page' });
  return c ?? undefined;
}

/** A date-time its schema accepted (`format: "date-time"`), as an instant; a problem if it names none. */
export function instantOf(v: string | undefined, problems: FieldError[], field: string): Date | undefined {
  if (v === undefined) return undefined;
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) {
    // RFC 3339 takes a leap second (23:59:60), which names no instant here.
    problems.push({ field, message: 'must be an ISO 8601 date-time with a zone, e.g. 2026-01-31T00:00:00Z' });
    return undefined;
  }
  return new Date(ms);
}
