import { parseEnv, type EnvSpec } from './env.js';

const bool = { type: 'boolean' };
const url = (protocols: string[]) => ({ type: 'string', pattern: `^(${protocols.join('|')})://` });
const port = { type: 'integer', minimum: 0, maximum: 65535 };

/** Variables every process reads. */
export const commonEnv = {
  NODE_ENV: {
    schema: { enum: ['development', 'production', 'test'] },
    default: 'development',
    description: 'development prints readable logs and allows the dev admin token',
  },
  LOG_LEVEL: {
    schema: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
    default: 'info',
    description: 'pino log level',
  },
  REDIS_URL: {
    schema: url(['redis', 'rediss']),
    default: 'redis://127.0.0.1:6379',
    description: 'Redis for BullMQ and counters',
  },
  DATABASE_URL: {
    schema: url(['postgres', 'postgresql']),
    default: 'postgresql://postgres@127.0.0.1:5432/leadrouter',
    description: 'PostgreSQL',
  },
  DATABASE_PREPARED_STATEMENTS: {
    schema: bool,
    default: 'true',
    description:
      'run the hot-path SQL as prepared statements (planned once per connection); set false behind PgBouncer in transaction mode',
  },
  QUEUE_PREFIX: {
    schema: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[^:]+$|^\\{[^}]+\\}$' },
    default: 'leadrouter',
    description: 'BullMQ key prefix; use a hash tag such as {leadrouter} on Redis Cluster',
  },
  METRICS_TOKEN: {
    schema: { type: 'string', minLength: 16, maxLength: 500 },
    optional: true,
    description: 'when set, GET /metrics requires Authorization: Bearer <token>; unset, /metrics is open',
  },
  ALLOW_PRIVATE_DESTINATIONS: {
    schema: bool,
    default: 'false',
    description: 'allow partner/postback URLs on loopback and private networks (tests, local demos)',
  },
} satisfies EnvSpec;

export const ingestEnv = {
  ...commonEnv,
  PORT: { schema: port, default: '3000', description: 'ingest HTTP port' },
  ADMIN_TOKEN: {
    schema: { type: 'string', minLength: 16, maxLength: 500 },
    description:
      'bearer token for /v1/admin/* and the dashboard (a dev default is used when NODE_ENV is not production)',
  },
} satisfies EnvSpec;

export const workerEnv = {
  ...commonEnv,
  WORKER_PORT: { schema: port, default: '3001', description: 'worker metrics/health port' },
  WORKER_CONCURRENCY: {
    schema: { type: 'integer', minimum: 1, maximum: 1000 },
    default: '64',
    description:
      "jobs each of the worker's queues runs at once: route jobs (each making its lead's first attempts) and deliver jobs (later attempts)",
  },
  SWEEP_INTERVAL_MS: {
    schema: { type: 'integer', minimum: 100, maximum: 600000 },
    default: '10000',
    description: 'how often the sweeper looks for leads and deliveries that lost their job',
  },
} satisfies EnvSpec;

/** The `leadrouter` CLI: the same database and queues as the services, read the same way. */
export const cliEnv = {
  DATABASE_URL: commonEnv.DATABASE_URL,
  REDIS_URL: commonEnv.REDIS_URL,
  QUEUE_PREFIX: commonEnv.QUEUE_PREFIX,
} satisfies EnvSpec;

export interface CommonConfig {
  NODE_ENV: 'development' | 'production' | 'test';
  LOG_LEVEL: string;
  REDIS_URL: string;
  DATABASE_URL: string;
  DATABASE_PREPARED_STATEMENTS: boolean;
  QUEUE_PREFIX: string;
  ALLOW_PRIVATE_DESTINATIONS: boolean;
  METRICS_TOKEN?: string;
}

export interface IngestConfig extends CommonConfig {
  PORT: number;
  ADMIN_TOKEN: string;
}

export interface WorkerConfig extends CommonConfig {
  WORKER_PORT: number;
  WORKER_CONCURRENCY: number;
  SWEEP_INTERVAL_MS: number;
}

/** The admin token used outside production when ADMIN_TOKEN is not set; printed at start. */
export const DEV_ADMIN_TOKEN = 'dev-admin-token-change-me';

export function loadIngestConfig(env: NodeJS.ProcessEnv = process.env): IngestConfig {
  const production = env.NODE_ENV === 'production';
  const withDefault = production || env.ADMIN_TOKEN ? env : { ...env, ADMIN_TOKEN: DEV_ADMIN_TOKEN };
  return parseEnv<IngestConfig>(ingestEnv, withDefault);
}

export type CliConfig = Pick<CommonConfig, 'DATABASE_URL' | 'REDIS_URL' | 'QUEUE_PREFIX'>;

export function loadCliConfig(env: NodeJS.ProcessEnv = process.env): CliConfig {
  return parseEnv<CliConfig>(cliEnv, env);
}

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return parseEnv<WorkerConfig>(workerEnv, env);
}
