import { invalid, type FieldError } from '@leadrouter/core';
import { decodeCursor, DEFAULT_LIMIT, MAX_CURSOR, MAX_LIMIT, type Cursor } from '@leadrouter/api';

/** Query parameters or CLI options as given: strings (an array when a parameter is repeated), or absent. */
export type RawParams = Record<string, unknown>;

export { DEFAULT_LIMIT, MAX_LIMIT };

/**
 * Reads request parameters and collects every problem, so one 422 lists them
 * all. Unknown parameters are problems too: a misspelt filter would otherwise
 * silently widen the search.
 */
export class ParamReader {
  readonly errors: FieldError[] = [];

  constructor(
    private readonly raw: RawParams,
    allowed: readonly string[],
  ) {
    for (const name of Object.keys(raw)) {
      if (!allowed.includes(name))
        this.errors.push({ field: name, message: `is not a parameter here (use ${allowed.join(', ')})` });
    }
  }

  /** A non-empty string of at most `max` characters. */
  string(name: string, max = 200): string | undefined {
    const v = this.raw[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') {
      this.errors.push({ field: name, message: 'must be given once' });
      return undefined;
    }
    if (v.length === 0 || v.length > max) {
      this.errors.push({ field: name, message: `must be 1 to ${max} characters` });
      return undefined;
    }
    return v;
  }

  /** `limit`: an integer from 1 to MAX_LIMIT. */
  limit(name = 'limit'): number {
    const v = this.string(name, 10);
    if (v === undefined) return DEFAULT_LIMIT;
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < 1 || n > MAX_LIMIT) {
      this.errors.push({ field: name, message: `must be an integer from 1 to ${MAX_LIMIT}` });
      return DEFAULT_LIMIT;
    }
    return n;
  }

  /** An ISO 8601 date-time with a time zone (a bare date would depend on the server's zone). */
  dateTime(name: string): Date | undefined {
    const v = this.string(name, 40);
    if (v === undefined) return undefined;
    const ms = Date.parse(v);
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(v) || Number.isNaN(ms)) {
      this.errors.push({
        field: name,
        message: 'must be an ISO 8601 date-time with a zone, e.g. 2026-01-31T00:00:00Z',
      });
      return undefined;
    }
    return new Date(ms);
  }

  cursor(name = 'cursor'): Cursor | undefined {
    const v = this.string(name, MAX_CURSOR);
    if (v === undefined) return undefined;
    const c = decodeCursor(v);
    if (!c) this.errors.push({ field: name, message: 'must be the nextCursor of a previous page' });
    return c ?? undefined;
  }

  /** One or more of `allowed`, comma-separated. */
  enumList<T extends string>(name: string, allowed: readonly T[]): T[] | undefined {
    const v = this.string(name, 500);
    if (v === undefined) return undefined;
    const parts = [...new Set(v.split(',').map((s) => s.trim()))];
    const bad = parts.filter((p) => !allowed.includes(p as T));
    if (bad.length > 0 || parts.length === 0) {
      this.errors.push({
        field: name,
        message: `must be one or more (comma-separated) of ${allowed.join(', ')}; got ${bad.map((b) => JSON.stringify(b)).join(', ')}`,
      });
      return undefined;
    }
    return parts as T[];
  }

  /** Throws a 422 listing every problem found so far. */
  check(): void {
    if (this.errors.length > 0) throw invalid(this.errors);
  }
}
