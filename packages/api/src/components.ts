import { Type, type Static, type TSchema, type TUnsafe } from '@leadrouter/core';

/**
 * Schemas with a name in the OpenAPI document (`components.schemas`): the table's bodies and answers refer to
 * them there rather than repeating them.
 */
const names = new Map<TSchema, string>();
const schemas = new Map<string, TSchema>();

/** Gives `schema` its name in the document; returns it unchanged. */
export function component<S extends TSchema>(name: string, schema: S): S {
  if (schemas.has(name)) throw new Error(`api: two schemas named ${name}`);
  names.set(schema, name);
  schemas.set(name, schema);
  return schema;
}

/** The name of a schema given one by `component`. */
export function nameOf(schema: TSchema): string | undefined {
  return names.get(schema);
}

/** Every named schema, in the order they were named. */
export function componentSchemas(): ReadonlyMap<string, TSchema> {
  return schemas;
}

/** A reference to a named schema, in the document (`$ref`), with that schema's type. */
export function ref<S extends TSchema>(schema: S, options: Record<string, unknown> = {}): TUnsafe<Static<S>> {
  const name = names.get(schema);
  if (!name) throw new Error('api: a reference to a schema without a name (component())');
  return Type.Unsafe<Static<S>>({ $ref: `#/components/schemas/${name}`, ...options });
}
