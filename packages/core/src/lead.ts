import type * as PhoneNumbers from 'libphonenumber-js/max';
import { ISO_COUNTRIES } from './countries.js';
import type { FieldError } from './errors.js';
import { Dict, Scalar, Type, Uuid, type Static } from './schema.js';
import { CONTACT_FIELDS } from './ping.js';
import { compile, toFieldErrors, unstorableStrings } from './validation.js';

/** The lead's own fields, as validated and stored: what partners receive and filters look at. */
export interface LeadFields {
  name: string;
  /** E.164 */
  phone: string;
  /** lower-cased */
  email: string | null;
  geo: string | null;
  /** the lead's traffic channel (its `source` field) */
  source: string | null;
  fields: Record<string, string | number | boolean>;
}

/** The README's example lead (also the OpenAPI document's example and the quick start's curl). */
export const EXAMPLE_LEAD: LeadInput = {
  name: 'John',
  phone: '+1 415 555 0100',
  email: 'john@example.com',
  geo: 'US',
  source: 'Facebook',
  fields: { zip: '94107', age: 42 },
};

/** A lead after validation. */
export interface NormalisedLead extends LeadFields {
  consent: { tcpa?: boolean; certificateUrl?: string } | null;
  /** The ping it is posted against (README "Ping then post (for sources)"), when it is. */
  pingId?: string;
}

/** What a ping carries of a lead (README "Ping then post (for sources)"): everything but its contact data. */
export type PingValues = Pick<NormalisedLead, 'geo' | 'source' | 'fields' | 'consent'>;

/** The lead as partners see it: its id and public fields. */
export interface PublicLead extends LeadFields {
  id: string;
}

/** A lead as posted by a source (README "Posting leads (for sources)"). */
export const LeadSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, description: 'the person’s name' }),
    phone: Type.String({
      minLength: 1,
      maxLength: 40,
      description: 'any common format; stored as E.164, with `geo` as the default region',
    }),
    email: Type.Optional(Type.String({ maxLength: 254, format: 'email' })),
    geo: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2 country, upper case' })),
    source: Type.Optional(Type.String({ maxLength: 100, description: 'sub-source / traffic channel, free text' })),
    fields: Type.Optional(
      Dict(Scalar({ maxLength: 1000 }), {
        maxProperties: 50,
        propertyNames: { type: 'string', minLength: 1, maxLength: 64, not: { const: '__proto__' } },
        description: 'flat custom fields: string, number or boolean values',
      }),
    ),
    consent: Type.Optional(
      Type.Object(
        {
          tcpa: Type.Optional(Type.Boolean()),
          certificateUrl: Type.Optional(Type.String({ maxLength: 2048, format: 'uri', pattern: '^https?://' })),
        },
        { additionalProperties: false },
      ),
    ),
    pingId: Type.Optional(
      Uuid({
        description:
          'the `pingId` of a `POST /v1/pings` answered with a bid: the lead is sold against that ping’s bids, and the ping’s values win over changed fields',
      }),
    ),
  },
  { title: 'Lead', additionalProperties: false },
);
export type LeadInput = Static<typeof LeadSchema>;

const validateShape = compile<LeadInput>(LeadSchema);

const { name: _name, phone: _phone, email: _email, pingId: _pingId, ...pingProperties } = LeadSchema.properties;

/** A ping as a source sends it (`POST /v1/pings`): a lead without its contact data. */
export const LeadPingSchema = Type.Object(pingProperties, { title: 'LeadPing', additionalProperties: false });
export type LeadPingInput = Static<typeof LeadPingSchema>;

const validatePingShape = compile<LeadPingInput>(LeadPingSchema);

export type PingValidation = { ok: true; values: PingValues } | { ok: false; errors: FieldError[] };

/**
 * Validates a ping (README "Ping then post (for sources)"): contact data (`name`, `phone`, `email`) present is an error for each,
 * and the rest is checked as a lead's is; every problem is listed.
 */
export function validatePing(input: unknown): PingValidation {
  const body = (typeof input === 'object' && input !== null && !Array.isArray(input) ? input : {}) as Record<
    string,
    unknown
  >;
  const errors: FieldError[] = CONTACT_FIELDS.filter((f) => Object.hasOwn(body, f)).map((f) => ({
    field: `/${f}`,
    message: 'is contact data: a ping carries none (send it in the post, POST /v1/leads with the pingId)',
  }));
  const rest = Object.fromEntries(
    Object.entries(body).filter(([k]) => !(CONTACT_FIELDS as readonly string[]).includes(k)),
  );
  errors.push(...unstorableStrings(rest));
  if (!validatePingShape(input === body ? rest : input)) errors.push(...toFieldErrors(validatePingShape.errors));
  const geo = typeof body.geo === 'string' && /^[A-Z]{2}$/.test(body.geo) ? body.geo : null;
  if (geo !== null && !ISO_COUNTRIES.has(geo))
    errors.push({ field: '/geo', message: 'is not a known ISO 3166-1 alpha-2 country code' });
  if (errors.length > 0) return { ok: false, errors };
  const ping = rest as LeadPingInput;
  return {
    ok: true,
    values: { geo, source: ping.source ?? null, fields: ping.fields ?? {}, consent: ping.consent ?? null },
  };
}

export type LeadValidation = { ok: true; lead: NormalisedLead } | { ok: false; errors: FieldError[] };

/** Validates a posted lead and normalises it; lists every problem, not just the first. */
export function validateLead(input: unknown): LeadValidation {
  const errors: FieldError[] = unstorableStrings(input);
  if (!validateShape(input)) {
    errors.push(...toFieldErrors(validateShape.errors));
  }
  const body = (typeof input === 'object' && input !== null ? input : {}) as Partial<LeadInput>;

  let geo: string | null = null;
  if (typeof body.geo === 'string' && /^[A-Z]{2}$/.test(body.geo)) {
    if (ISO_COUNTRIES.has(body.geo)) geo = body.geo;
    else errors.push({ field: '/geo', message: 'is not a known ISO 3166-1 alpha-2 country code' });
  }

  let phone: string | null = null;
  if (typeof body.phone === 'string' && body.phone.length > 0 && body.phone.length <= 40) {
    phone = normalisePhone(body.phone, geo);
    if (!phone) {
      errors.push({
        field: '/phone',
        message: geo
          ? `is not a valid phone number for ${geo}`
          : 'is not a valid phone number (use international format, e.g. +14155550100, or set geo)',
      });
    }
  }

  if (errors.length > 0 || !phone) return { ok: false, errors };
  const lead = input as LeadInput;
  return {
    ok: true,
    lead: {
      name: lead.name,
      phone,
      email: lead.email ? lead.email.toLowerCase() : null,
      geo,
      source: lead.source ?? null,
      fields: lead.fields ?? {},
      consent: lead.consent ?? null,
      ...(lead.pingId !== undefined ? { pingId: lead.pingId.toLowerCase() } : {}),
    },
  };
}

let phoneNumbers: typeof PhoneNumbers | undefined;

/**
 * libphonenumber-js with its full metadata, loaded by the first phone number
 * parsed (or by `loadPhoneNumbers`), not at import: it holds about 1.7 MB of
 * heap, and the worker, which imports this package, parses no phone number
 * (V8 lets a heap grow to about four times what it keeps: docs/performance.md,
 * "The worker's peak RSS").
 */
export function loadPhoneNumbers(): typeof PhoneNumbers {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, see above
  return (phoneNumbers ??= require('libphonenumber-js/max') as typeof PhoneNumbers);
}

/** E.164, or null when the number is not valid (with `region` as the default country). */
export function normalisePhone(raw: string, region: string | null): string | null {
  const { isSupportedCountry, parsePhoneNumberFromString } = loadPhoneNumbers();
  const defaultCountry = region && isSupportedCountry(region) ? region : undefined;
  const parsed = parsePhoneNumberFromString(raw, defaultCountry ? { defaultCountry } : undefined);
  return parsed && parsed.isValid() ? parsed.number : null;
}
