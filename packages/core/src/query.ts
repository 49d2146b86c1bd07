import Ajv, { type ErrorObject } from 'ajv';
import { invalid, type FieldError } from './errors.js';
import { AJV_OPTIONS, addRequestFormats } from './validation.js';

/**
 * Query strings (and the CLI's options, text too) validated with their route's schema (ADR 0019): the options
 * and formats of the request bodies' Ajv, plus coercion of a parameter's text to the number or boolean its
 * schema says (`?limit=20`). A query's parameters are those its schema names: any other is a problem, since a
 * misspelt filter would silently widen a list.
 *
 * The messages are written from each parameter's schema, in the words the API has always used (`must be an
 * integer from 1 to 500`, `is not a parameter here (use limit, cursor)`), where Ajv's own would say `must be <=
 * 500`. A value given twice (`?status=a&status=b`) is `must be given once`.
 */
let queryAjv: Ajv | undefined;

/** Made on first use: a process that validates no query (the worker) does not build it (ADR 0009). */
function getQueryAjv(): Ajv {
  if (queryAjv) return queryAjv;
  queryAjv = new Ajv({ ...AJV_OPTIONS, coerceTypes: true });
  addRequestFormats(queryAjv);
  // Annotations of the document (`example`), and the values of a comma-separated list (`x-list`, see `List`).
  queryAjv.addKeyword('example');
  queryAjv.addKeyword('x-list');
  return queryAjv;
}

/** A query's schema: an object whose properties are its parameters. */
export type QuerySchema = { properties: Record<string, object> };

type ParamSchema = {
  type?: string;
  enum?: unknown[];
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  'x-list'?: string[];
};

/** The parameters that passed, and a problem for each that did not (one a parameter). */
export interface QueryReading<T> {
  /** The valid parameters, coerced; a parameter with a problem is left out. */
  value: T;
  problems: FieldError[];
}

/** A validator of `schema`'s query (compiled once): every problem, and the parameters that passed. */
export function queryValidator<T>(schema: QuerySchema): (raw: Record<string, unknown>) => QueryReading<T> {
  const names = Object.keys(schema.properties);
  const numbers = names.filter((name) =>
    ['integer', 'number'].includes((schema.properties[name] as ParamSchema).type ?? ''),
  );
  const validate = getQueryAjv().compile({ ...schema, additionalProperties: false });
  return (raw) => {
    // A copy: Ajv coerces in place, and the raw query stays as it came.
    const value: Record<string, unknown> = { ...raw };
    const problems: FieldError[] = [];
    // A number is written in decimal digits: Ajv's coercion would also take `1e2`, ` 12` or `0x10`.
    for (const name of numbers) {
      const v = value[name];
      const digits = (schema.properties[name] as ParamSchema).type === 'integer' ? /^-?\d+$/ : /^-?\d+(\.\d+)?$/;
      if (typeof v === 'string' && !digits.test(v)) {
        problems.push({
          field: name,
          message: messageOf(NOT_A_NUMBER, schema.properties[name], v, names),
        });
        delete value[name];
      }
    }
    if (validate(value)) return { value: value as T, problems };
    for (const e of validate.errors ?? []) {
      const field = fieldOf(e);
      if (problems.some((p) => p.field === field)) continue; // one problem a parameter, its first
      problems.push({
        field,
        message: messageOf(e, schema.properties[field], raw[field], names),
      });
      delete value[field];
    }
    return { value, problems };
  };
}

/**
 * Throws one 422 listing every problem of a query, the schema's and those its reader found (what no schema
 * states: a cursor, a name to look up, `since` before `until`), in the order of the parameters: unknown ones
 * first, then as the schema lists them.
 */
export function checkQuery(schema: QuerySchema, problems: FieldError[]): void {
  if (problems.length === 0) return;
  const names = Object.keys(schema.properties);
  const rank = (p: FieldError) => names.indexOf(p.field ?? '');
  throw invalid(
    problems
      .map((p, i) => ({ p, i }))
      .sort((a, b) => rank(a.p) - rank(b.p) || a.i - b.i)
      .map((x) => x.p),
  );
}

const NOT_A_NUMBER = { keyword: 'type', instancePath: '', schemaPath: '', params: {} } as ErrorObject;

function fieldOf(e: ErrorObject): string {
  if (e.keyword === 'additionalProperties') return String(e.params.additionalProperty);
  if (e.keyword === 'required') return String(e.params.missingProperty);
  return e.instancePath.slice(1).replace(/~1/g, '/').replace(/~0/g, '~');
}

function messageOf(e: ErrorObject, s: ParamSchema | undefined, raw: unknown, names: string[]): string {
  if (e.keyword === 'additionalProperties') return `is not a parameter here (use ${names.join(', ')})`;
  if (e.keyword === 'required') return 'is required';
  if (Array.isArray(raw)) return 'must be given once';
  if (!s) return e.message ?? 'is invalid';
  const text = typeof raw === 'string' ? raw : String(raw);
  const list = s['x-list'];
  if (list && e.keyword === 'pattern') {
    const bad = [...new Set(text.split(',').map((v) => v.trim()))].filter((v) => !list.includes(v));
    return `must be one or more (comma-separated) of ${list.join(', ')}; got ${bad.map((b) => JSON.stringify(b)).join(', ')}`;
  }
  if (s.enum) return `must be one of ${s.enum.join(', ')}; got ${JSON.stringify(text)}`;
  if (s.type === 'integer' || s.type === 'number') {
    const kind = s.type === 'integer' ? 'an integer' : 'a number';
    if (s.minimum !== undefined && s.maximum !== undefined) return `must be ${kind} from ${s.minimum} to ${s.maximum}`;
    if (s.minimum !== undefined) return `must be ${kind} of at least ${s.minimum}`;
    if (s.maximum !== undefined) return `must be ${kind} of at most ${s.maximum}`;
    return `must be ${kind}`;
  }
  if (s.type === 'boolean') return 'must be true or false';
  if (e.keyword === 'minLength' || e.keyword === 'maxLength') {
    if (s.minLength !== undefined && s.maxLength !== undefined)
      return `must be ${s.minLength} to ${s.maxLength} characters`;
    return s.maxLength !== undefined
      ? `must be at most ${s.maxLength} characters`
      : `must be at least ${s.minLength} characters`;
  }
  if (s.format === 'date-time') return 'must be an ISO 8601 date-time with a zone, e.g. 2026-01-31T00:00:00Z';
  if (s.format === 'uuid') return 'must be a UUID';
  return e.message ?? 'is invalid';
}
