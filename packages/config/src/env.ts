import Ajv, { type ValidateFunction } from 'ajv';

/** One environment variable: its JSON Schema, default and meaning (the README table is checked against these). */
export interface EnvVar {
  schema: Record<string, unknown>;
  default?: string;
  /** May be left unset (then absent from the parsed config). */
  optional?: boolean;
  description: string;
  /**
   * How much of a bad value an error may show: `secret` values are never
   * shown (only why they are refused), `url` values are shown without their
   * credentials (a password in the user part or in the query string).
   */
  sensitive?: 'secret' | 'url';
  /** A rule the schema cannot say: returns why the (schema-valid) value is refused, as "it …", or nothing. */
  check?: (value: string) => string | undefined;
}

export type EnvSpec = Record<string, EnvVar>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const ajv = new Ajv({ coerceTypes: true, allErrors: false, strict: true });
const validators = new WeakMap<EnvVar, ValidateFunction>();

function validator(v: EnvVar): ValidateFunction {
  let validate = validators.get(v);
  if (!validate) {
    validate = ajv.compile({ type: 'object', properties: { value: v.schema } });
    validators.set(v, validate);
  }
  return validate;
}

/**
 * Parses `env` against `spec` once, at start-up. The first bad or missing
 * variable throws a ConfigError whose message is one line naming it — and
 * never the value of a secret.
 */
export function parseEnv<T>(spec: EnvSpec, env: NodeJS.ProcessEnv): T {
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(spec)) {
    const raw = env[name] === undefined || env[name] === '' ? v.default : env[name];
    if (raw === undefined && v.optional) continue;
    if (raw === undefined) {
      throw new ConfigError(`${name} is required: ${v.description}`);
    }
    const holder = { value: raw };
    const validate = validator(v);
    const why = validate(holder)
      ? v.check?.(String(holder.value))
      : `it ${validate.errors?.[0]?.message ?? 'is invalid'}`;
    if (why !== undefined)
      throw new ConfigError(`${shown(name, raw, v.sensitive)} is invalid: ${why} (${v.description})`);
    out[name] = holder.value;
  }
  return out as T;
}

/** `NAME="value"` for an error message, or just `NAME` when the value is a secret (or a URL that cannot be cleaned). */
function shown(name: string, raw: string, sensitive: EnvVar['sensitive']): string {
  if (sensitive === 'secret') return name;
  if (sensitive === 'url') {
    const clean = withoutCredentials(raw);
    return clean === undefined ? name : `${name}=${JSON.stringify(clean)}`;
  }
  return `${name}=${JSON.stringify(raw)}`;
}

/** Query parameters that carry a secret in a connection URL (libpq's `password`, `sslpassword`; tokens, keys). */
const SECRET_PARAM = /pass|secret|token|key|auth|credential/i;

/**
 * A URL with its password and secret query parameters replaced by `***`;
 * undefined when it is not a `scheme://` URL and could hold a credential
 * somewhere unknown (an `@` or a `=`): then nothing of it is shown.
 */
export function withoutCredentials(value: string): string | undefined {
  let url: URL | undefined;
  try {
    url = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url) return /[@=]/.test(value) ? undefined : value;
  if (url.password) url.password = '***';
  for (const key of [...url.searchParams.keys()]) if (SECRET_PARAM.test(key)) url.searchParams.set(key, '***');
  return url.href;
}
