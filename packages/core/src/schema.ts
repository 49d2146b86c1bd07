/**
 * TypeBox (the `typebox` package) builds each JSON Schema of the API once, and the TypeScript type of what it
 * accepts comes from the same definition (`Static<typeof S>`). The schemas are plain JSON Schema: Ajv validates
 * them (validation.ts) and the OpenAPI document shows them as they are (ADR 0019).
 *
 * The helpers below write a few shapes exactly as the project's schemas always had them, so validation errors
 * stay as they were: a nullable value as a type union (`type: ["string", "null"]`, one error per field, where an
 * `anyOf` would give three), an enumeration as `enum`, a map as `additionalProperties`.
 */
import { Type, type Static, type TSchema, type TUnsafe } from 'typebox';

export { Type, type Static, type TSchema, type TUnsafe };

type Typed = TSchema & { type: string };

/** `schema`, or null. */
export function Nullable<S extends Typed>(schema: S): TUnsafe<Static<S> | null> {
  return Type.Unsafe<Static<S> | null>({ ...schema, type: [schema.type, 'null'] });
}

/** One of `values` (`enum`). */
export function OneOf<const V extends readonly (string | number)[]>(
  values: V,
  options: Record<string, unknown> = {},
): TUnsafe<V[number]> {
  return Type.Unsafe<V[number]>({ ...options, enum: values });
}

/** Exactly `value` (`const`, without a `type`). */
export function Const<const V extends string | number | boolean>(
  value: V,
  options: Record<string, unknown> = {},
): TUnsafe<V> {
  return Type.Unsafe<V>({ ...options, const: value });
}

/** An object whose every property is a `value`; `options` may bound the names (`propertyNames`) and count. */
export function Dict<V extends TSchema>(
  value: V,
  options: Record<string, unknown> = {},
): TUnsafe<Record<string, Static<V>>> {
  return Type.Unsafe<Record<string, Static<V>>>({ type: 'object', ...options, additionalProperties: value });
}

/** A closed object: no other properties; every property is required unless wrapped in `Type.Optional`. */
export function Closed<P extends Parameters<typeof Type.Object>[0]>(
  properties: P,
  options: Record<string, unknown> = {},
) {
  return Type.Object(properties, { ...options, additionalProperties: false });
}

/** A string, a number or a boolean (a scalar of a lead's custom fields). */
export function Scalar(options: Record<string, unknown> = {}): TUnsafe<string | number | boolean> {
  return Type.Unsafe<string | number | boolean>({ type: ['string', 'number', 'boolean'], ...options });
}

/** Any JSON value (no constraint). */
export function Json(options: Record<string, unknown> = {}): TUnsafe<unknown> {
  return Type.Unsafe<unknown>({ ...options });
}

/** A UUID in the one form the API takes (ids.ts): `format: "uuid"`. */
export function Uuid(options: Record<string, unknown> = {}) {
  return Type.String({ format: 'uuid', ...options });
}

/** An ISO 8601 date-time, as answers write them. */
export function DateTime(options: Record<string, unknown> = {}) {
  return Type.String({ format: 'date-time', ...options });
}

/**
 * One or more of `values`, comma-separated, each once or more (`unsold,dead_lettered`): a query parameter's list.
 * A `pattern` states it (spaces around a value are taken); `x-list` names the values, for the message that lists
 * them (query.ts) and for the reader of the document.
 */
export function List<const V extends readonly string[]>(values: V, options: Record<string, unknown> = {}) {
  const one = `(?:${values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`;
  return Type.Unsafe<string>({
    type: 'string',
    minLength: 1,
    maxLength: 500,
    ...options,
    pattern: `^\\s*${one}\\s*(?:,\\s*${one}\\s*)*$`,
    'x-list': [...values],
  });
}
