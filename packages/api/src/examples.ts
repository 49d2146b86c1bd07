import { DateTime } from '@leadrouter/core';

/** Ids and times of the document's examples. */
export const EXAMPLE_ID = '3f1c2a9e-5b7d-4c1e-9a8f-2d6b4e0c7a11';
export const EXAMPLE_PARTNER_ID = '9b2e4f7a-1c3d-4e5f-8a9b-0c1d2e3f4a5b';
export const EXAMPLE_SOURCE_ID = '5d6e7f80-91a2-4b3c-8d4e-5f60718293a4';
/** A lead's id, where an example names one beside another id. */
export const EXAMPLE_LEAD_ID = '0194f2c8-7d3a-7b21-9c4e-6a5b8d2f1e03';
export const EXAMPLE_AT = '2026-01-31T12:00:00.000Z';

/** A `since` query parameter: an ISO 8601 date-time with a zone, by default `what`. */
export const since = (what: string) =>
  DateTime({ maxLength: 40, description: `ISO 8601 date-time with a zone; default: ${what}`, example: EXAMPLE_AT });
