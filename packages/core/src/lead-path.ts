// Reading a lead by path, as partners' field maps and routes' filters name its parts. No schema here: the worker
// loads this module (through `@leadrouter/core/runtime`) without typebox; the lead's schemas are lead.ts's.
import type { LeadFields } from './lead.js';

/**
 * A lead path as fieldMap and filters use it: `id`, `name`, `phone`, `email`,
 * `geo`, `source`, or `fields.<name>`; undefined for anything else.
 */
export function readLeadPath(
  lead: LeadFields & { id?: string },
  path: string,
): string | number | boolean | null | undefined {
  if (path.startsWith('fields.')) {
    const name = path.slice('fields.'.length);
    return Object.hasOwn(lead.fields, name) ? lead.fields[name] : undefined;
  }
  switch (path) {
    case 'id':
    case 'name':
    case 'phone':
    case 'email':
    case 'geo':
    case 'source':
      return lead[path];
    default:
      return undefined;
  }
}
