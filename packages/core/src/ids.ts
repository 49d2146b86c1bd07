/**
 * The one form of an id the API takes: a UUID as PostgreSQL writes it (8-4-4-4-12 hexadecimal digits), in
 * either case. JSON Schema's `format: "uuid"` is this pattern too (validation.ts), so a path parameter, a query
 * parameter and an id inside a body are checked alike; anything else is no resource's id.
 */
export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

export const UUID_RE = new RegExp(UUID_PATTERN);

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_RE.test(value);
}
