import { sqlLiteral } from '@leadrouter/db';

export type Row = Record<string, unknown>;

/**
 * A value as an SQL literal (`sqlLiteral`), with timestamps and decimals, for
 * the statements written as text (the rare ones; the hot path's are
 * prepared `Statement`s).
 */
export function lit(value: string | number | bigint | boolean | null | Date | object): string {
  if (value instanceof Date) return `${sqlLiteral(value.toISOString())}::timestamptz`;
  if (typeof value === 'number' && !Number.isSafeInteger(value)) return `${sqlLiteral(String(value))}::numeric`;
  return sqlLiteral(value);
}
