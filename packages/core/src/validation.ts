import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FieldError } from './errors.js';

/**
 * One Ajv instance for every request schema: all errors, no coercion, no
 * defaults injected into input. Strings are bounded in every schema so a
 * pattern or format cannot be made slow (Ajv's security notes).
 */
export const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
addFormats(ajv, ['email', 'uri', 'date-time', 'uuid', 'regex']);

/** Ajv errors as `{field, message}` with JSON pointers a client can act on. */
export function toFieldErrors(errors: ErrorObject[] | null | undefined): FieldError[] {
  const seen = new Set<string>();
  return (errors ?? [])
    .map((e) => {
      let field = e.instancePath || '';
      let message = e.message ?? 'is invalid';
      if (e.keyword === 'required') {
        field = `${field}/${String(e.params.missingProperty)}`;
        message = 'is required';
      } else if (e.keyword === 'additionalProperties') {
        field = `${field}/${String(e.params.additionalProperty)}`;
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

export function compile<T>(schema: object): ValidateFunction<T> {
  return ajv.compile<T>(schema);
}
