import Ajv, { type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FieldError } from './errors.js';
import { UNSTORABLE } from './storable.js';
import { UUID_RE } from './ids.js';

/**
 * One Ajv instance for every request body's schema: all errors, no coercion,
 * no defaults injected into input (query strings: query.ts, the same options
 * and formats with coercion). Strings are bounded in every schema so a
 * pattern or format cannot be made slow (Ajv's security notes).
 */
export const AJV_OPTIONS = { allErrors: true, strict: true, allowUnionTypes: true } as const satisfies Options;
export const ajv = new Ajv(AJV_OPTIONS);
addRequestFormats(ajv);

/** The formats the requests' schemas use (the query strings' Ajv has the same; query.ts). */
export function addRequestFormats(instance: Ajv): void {
  addFormats(instance, ['email', 'uri', 'date-time', 'regex']);
  // ajv-formats' own `uuid` also takes a `urn:uuid:` prefix: the API takes one form of id (ids.ts).
  instance.addFormat('uuid', UUID_RE);
}

/** Ajv errors as `{field, message}` with JSON pointers a client can act on. */
export function toFieldErrors(errors: ErrorObject[] | null | undefined): FieldError[] {
  const seen = new Set<string>();
  return (errors ?? [])
    .filter((e) => e.keyword !== 'propertyNames') // its cause comes as an error of its own, with the name
    .filter((e) => e.keyword !== 'if') // "must match the then schema": the errors of the then schema say what
    .map((e) => {
      let field = e.instancePath || '';
      let message = e.message ?? 'is invalid';
      if (e.propertyName !== undefined) {
        // An error about a property's name (`propertyNames`): addressed to that property.
        field = `${field}/${escapePointer(e.propertyName)}`;
        message = `has an invalid name (${message})`;
      } else if (e.keyword === 'required') {
        field = `${field}/${escapePointer(String(e.params.missingProperty))}`;
        message = 'is required';
      } else if (e.keyword === 'additionalProperties') {
        field = `${field}/${escapePointer(String(e.params.additionalProperty))}`;
        message = 'is not an allowed property';
      } else if (e.keyword === 'enum') {
        message = `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
      }
      return { field: field || '/', message };
    })
    .filter((e) => {
      const key = `${e.field}\0${e.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

const escapePointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

export function compile<T>(schema: object): ValidateFunction<T> {
  return ajv.compile<T>(schema);
}

const MAX_DEPTH = 32;

/**
 * Strings (values and keys) that PostgreSQL cannot store, with their JSON
 * pointers, so they are a 422 rather than a failed insert. Nesting deeper
 * than any valid request is reported too (and not walked).
 */
export function unstorableStrings(value: unknown, pointer = '', depth = 0, out: FieldError[] = []): FieldError[] {
  if (out.length >= 20) return out;
  if (typeof value === 'string') {
    if (UNSTORABLE.test(value))
      out.push({ field: pointer || '/', message: 'contains a NUL character or invalid Unicode' });
  } else if (typeof value === 'object' && value !== null) {
    if (depth >= MAX_DEPTH) {
      out.push({ field: pointer || '/', message: `is nested more than ${MAX_DEPTH} levels deep` });
      return out;
    }
    for (const [k, v] of Object.entries(value)) {
      const child = `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (UNSTORABLE.test(k)) out.push({ field: child, message: 'has a name with a NUL character or invalid Unicode' });
      unstorableStrings(v, child, depth + 1, out);
    }
  }
  return out;
}
