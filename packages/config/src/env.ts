import Ajv from 'ajv';

/** One environment variable: its JSON Schema, default and meaning (the README table is checked against these). */
export interface EnvVar {
  schema: Record<string, unknown>;
  default?: string;
  /** May be left unset (then absent from the parsed config). */
  optional?: boolean;
  description: string;
}

export type EnvSpec = Record<string, EnvVar>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const ajv = new Ajv({ coerceTypes: true, allErrors: false, strict: true });

/**
 * Parses `env` against `spec` once, at start-up. The first bad or missing
 * variable throws a ConfigError whose message is one line naming it.
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
    const validate = ajv.compile({
      type: 'object',
      properties: { value: v.schema },
    });
    if (!validate(holder)) {
      const why = validate.errors?.[0]?.message ?? 'is invalid';
      throw new ConfigError(
        `${name}=${JSON.stringify(redactUrl(String(raw)))} is invalid: it ${why} (${v.description})`,
      );
    }
    out[name] = holder.value;
  }
  return out as T;
}

/** Hides a password in a URL so a config error never prints a secret. */
function redactUrl(value: string): string {
  return value.replace(/\/\/([^:/@]+):[^@/]+@/, '//$1:***@');
}
