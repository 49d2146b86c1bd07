import { isIP } from 'node:net';
import { ConfigError, parseEnv, type EnvSpec } from './env.js';

const bool = { type: 'boolean' };
const url = (protocols: string[]) => ({ type: 'string', pattern: `^(${protocols.join('|')})://` });
const port = { type: 'integer', minimum: 0, maximum: 65535 };

/** The most sub-queues a queue may be split into (QUEUE_PARTITIONS); workers look this far for jobs to drain. */
export const MAX_QUEUE_PARTITIONS = 32;

/** How long sources' pings and their buyers' answers are kept by default (PING_RETENTION_DAYS; ADR 0032). */
export const DEFAULT_PING_RETENTION_DAYS = 90;
/** The longest PII_RETENTION_DAYS (a century): a larger value is a typo, not a policy. */
export const MAX_PII_RETENTION_DAYS = 36_500;
/** The longest LEAD_HISTORY_RETENTION_MONTHS (a century). */
export const MAX_HISTORY_RETENTION_MONTHS = 1_200;

/**
 * How long the ingest keeps an idle kept-alive connection by default (KEEP_ALIVE_TIMEOUT_SECONDS; ADR 0040):
 * above the 60 s that AWS' load balancers and nginx keep theirs, so the ingest is never the side that closes a
 * connection a client or balancer is about to reuse.
 */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_SECONDS = 65;

/** The shortest bearer token accepted (ADMIN_TOKEN, METRICS_TOKEN): 32 random hex digits are 128 bits. */
export const MIN_TOKEN_LENGTH = 32;
/** Fewer different characters than this is a placeholder, not a secret (32 random hex digits have 9 or more). */
const MIN_TOKEN_CHARACTERS = 8;
const GENERATE = 'generate one with: openssl rand -hex 24';

/**
 * Why a bearer token an operator chose is refused, or nothing: at least 32
 * characters, printable ASCII without spaces (it travels in an HTTP header),
 * at least 8 different characters (so no token of one repeated character).
 * The reason never quotes the token.
 */
export function tokenProblem(value: string): string | undefined {
  if (value.length < MIN_TOKEN_LENGTH) return `it must be at least ${MIN_TOKEN_LENGTH} characters long; ${GENERATE}`;
  if (!/^[\x21-\x7e]+$/.test(value))
    return `it must be printable ASCII characters without spaces or control characters; ${GENERATE}`;
  if (new Set(value).size < MIN_TOKEN_CHARACTERS)
    return `it must have at least ${MIN_TOKEN_CHARACTERS} different characters, not a pattern; ${GENERATE}`;
  return undefined;
}

/** Why CURRENCY is refused, or nothing: an ISO 4217 code is three uppercase letters (`USD`, `EUR`, `GBP`). */
export function currencyProblem(value: string): string | undefined {
  return /^[A-Z]{3}$/.test(value)
    ? undefined
    : 'it must be an ISO 4217 currency code: three uppercase letters, such as USD, EUR or GBP';
}

/** The currency of every amount (README "Money: prices, payouts, feedback and returns"): named in the answers that show amounts, never converted. */
const currency = {
  schema: { type: 'string', maxLength: 100 },
  default: 'USD',
  description:
    'ISO 4217 code of every amount in this installation (prices, payouts, the ledger, reports, stats), named as `currency` where amounts are shown; amounts are never converted',
  check: currencyProblem,
} as const;

const token = { schema: { type: 'string', maxLength: 500 }, sensitive: 'secret', check: tokenProblem } as const;

/** What `TRUST_PROXY` asks of Express' `trust proxy`: nothing, a number of proxies in front, or their addresses. */
export type TrustProxy = false | number | string[];

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** `false`, a number of hops, or a comma-separated list of addresses, subnets (CIDR) and proxy-addr's names. */
export function trustProxySetting(value: string): TrustProxy {
  const v = value.trim();
  if (v === 'false') return false;
  if (/^\d+$/.test(v)) return Number(v);
  return v.split(',').map((entry) => entry.trim());
}

/** Whether an IPv4 netmask is ones then zeros (255.255.255.0), the only kind Express' proxy-addr takes. */
function contiguousMask(mask: string): boolean {
  const bits = mask.split('.').reduce((n, part) => n * 256 + Number(part), 0);
  const hosts = 2 ** 32 - 1 - bits;
  return (hosts & (hosts + 1)) === 0;
}

function trustProxyProblem(value: string): string | undefined {
  if (value.trim() === 'true')
    return 'it must not be true: trusting every proxy lets any client choose its address with X-Forwarded-For; give the number of proxies in front (e.g. 1) or their addresses';
  const setting = trustProxySetting(value);
  if (!Array.isArray(setting)) return undefined;
  const bad = setting.find((entry) => {
    if (PROXY_NAMES.has(entry)) return false;
    const [address = '', bits, ...more] = entry.split('/');
    const family = isIP(address);
    if (family === 0 || more.length > 0) return true;
    if (bits === undefined) return false;
    if (isIP(bits) === 4) return family !== 4 || !contiguousMask(bits); // a netmask
    return !/^\d+$/.test(bits) || Number(bits) > (family === 4 ? 32 : 128);
  });
  return bad === undefined
    ? undefined
    : `it must be false, a number of proxies, or addresses and subnets (CIDR), loopback, linklocal or uniquelocal, separated by commas: ${JSON.stringify(bad)} is none of these`;
}

/** Variables every process reads. */
export const commonEnv = {
  NODE_ENV: {
    schema: { enum: ['development', 'production', 'test'] },
    default: 'production',
    description:
      'development: readable logs, and a printed dev admin token when ADMIN_TOKEN is unset; production and test: JSON logs, ADMIN_TOKEN required',
  },
  LOG_LEVEL: {
    schema: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
    default: 'info',
    description: 'pino log level',
  },
  REDIS_URL: {
    schema: url(['redis', 'rediss']),
    sensitive: 'url',
    default: 'redis://127.0.0.1:6379',
    description: 'Redis for BullMQ and counters (one server; for a Redis Cluster set REDIS_CLUSTER_NODES)',
  },
  REDIS_CLUSTER_NODES: {
    schema: { type: 'string', minLength: 1, maxLength: 2000 },
    optional: true,
    description:
      'host:port,host:port,… of some nodes of a Redis Cluster (the others are found from them); when set, REDIS_URL is not used',
    check: clusterNodesProblem,
  },
  DATABASE_URL: {
    schema: url(['postgres', 'postgresql']),
    sensitive: 'url',
    default: 'postgresql://postgres@127.0.0.1:5432/leadrouter',
    description: 'PostgreSQL',
  },
  DATABASE_PREPARED_STATEMENTS: {
    schema: bool,
    default: 'true',
    description:
      'run the hot-path SQL as prepared statements (planned once per connection); set false behind PgBouncer in transaction mode',
  },
  DATABASE_POOL_SIZE: {
    schema: { type: 'integer', minimum: 1, maximum: 1000 },
    default: '10',
    description:
      "PostgreSQL connections each process opens at most; the worker's jobs (WORKER_CONCURRENCY per queue and sub-queue) share them, holding one only while they write",
  },
  QUEUE_PREFIX: {
    schema: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[^:]+$|^\\{[^}]+\\}$' },
    default: 'leadrouter',
    description:
      'the start of every Redis key and channel leadrouter uses; a plain name (no hash tag): leadrouter tags its keys itself',
  },
  QUEUE_PARTITIONS: {
    schema: { type: 'integer', minimum: 1, maximum: MAX_QUEUE_PARTITIONS },
    default: '1',
    description:
      'sub-queues of each queue, each with its own hash tag (on a Redis Cluster, spread over the shards); the same on every process',
  },
  METRICS_TOKEN: {
    ...token,
    optional: true,
    description:
      'when set, GET /metrics requires Authorization: Bearer <token> (at least 32 characters, 8 of them different); unset, /metrics is open',
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
    ...token,
    description:
      'bearer token for /v1/admin/* and the dashboard: at least 32 printable characters, 8 of them different (with NODE_ENV=development a dev default is used when unset)',
  },
  TRUST_PROXY: {
    schema: { type: 'string', minLength: 1, maxLength: 1000 },
    default: 'false',
    description:
      "which proxies in front of the ingest may name the client's address (X-Forwarded-For): false, their number (e.g. 1), or their addresses/subnets",
    check: trustProxyProblem,
  },
  AUTH_FAILURES_PER_MINUTE: {
    schema: { type: 'integer', minimum: 1, maximum: 1000000 },
    default: '60',
    description:
      'lead-API requests with a missing or unknown key one client address may make in a minute; past that it is answered 429 until the minute ends',
  },
  PING_EXPIRY_SECONDS: {
    schema: { type: 'integer', minimum: 1, maximum: 86400 },
    default: '300',
    description:
      "seconds after a source's ping (POST /v1/pings) within which the lead may be posted against it (expiresAt); a later post is answered 410 ping_expired",
  },
  KEEP_ALIVE_TIMEOUT_SECONDS: {
    schema: { type: 'integer', minimum: 1, maximum: 3600 },
    default: String(DEFAULT_KEEP_ALIVE_TIMEOUT_SECONDS),
    description:
      'seconds the ingest keeps an idle kept-alive client connection open; keep it above the idle timeout of every client and load balancer in front of it (ADR 0040)',
  },
  CURRENCY: currency,
} satisfies EnvSpec;

export const workerEnv = {
  ...commonEnv,
  WORKER_PORT: { schema: port, default: '3001', description: 'worker metrics/health port' },
  WORKER_CONCURRENCY: {
    schema: { type: 'integer', minimum: 1, maximum: 1000 },
    default: '64',
    description:
      "jobs each of the worker's queues (each sub-queue, see QUEUE_PARTITIONS) runs at once: route jobs (each making its lead's first attempts) and deliver jobs (later attempts)",
  },
  PING_CONCURRENCY: {
    schema: { type: 'integer', minimum: 1, maximum: 10000 },
    default: '256',
    description:
      "sources' pings each sub-queue of the worker's ping queue auctions at once (each waits at most its route's auction deadline for the buyers' bids)",
  },
  SWEEP_INTERVAL_MS: {
    schema: { type: 'integer', minimum: 100, maximum: 600000 },
    default: '10000',
    description: 'how often the sweeper looks for leads and deliveries that lost their job',
  },
  PII_RETENTION_DAYS: {
    schema: { type: 'integer', minimum: 0, maximum: MAX_PII_RETENTION_DAYS },
    default: '0',
    description:
      "days a lead's personal data (name, phone, email, fields, consent) is kept; the worker's housekeeping erases it from older leads, keeping their money, statuses and ids; 0 keeps it for ever",
  },
  PING_RETENTION_DAYS: {
    schema: { type: 'integer', minimum: 0, maximum: MAX_PII_RETENTION_DAYS },
    default: String(DEFAULT_PING_RETENTION_DAYS),
    description:
      "days sources' pings and their buyers' answers (the pings and ping_bids tables, for the stats) are kept: the worker's housekeeping drops each day's partition once the whole day is older; the reports keep their figures; 0 keeps them for ever",
  },
  LEAD_HISTORY_RETENTION_MONTHS: {
    schema: { type: 'integer', minimum: 0, maximum: MAX_HISTORY_RETENTION_MONTHS },
    default: '0',
    description:
      "months leads' history (their status events and their deliveries' attempts with the partners' answers) is kept after the month the lead arrived in: the worker's housekeeping drops a month's partition of both once that many whole months have passed since it ended; the leads, their deliveries' outcomes, their money and the reports are kept; 0 keeps it for ever",
  },
} satisfies EnvSpec;

/** The `leadrouter` CLI: the same database and queues as the services, read the same way. */
export const cliEnv = {
  DATABASE_URL: commonEnv.DATABASE_URL,
  REDIS_URL: commonEnv.REDIS_URL,
  REDIS_CLUSTER_NODES: commonEnv.REDIS_CLUSTER_NODES,
  QUEUE_PREFIX: commonEnv.QUEUE_PREFIX,
  QUEUE_PARTITIONS: commonEnv.QUEUE_PARTITIONS,
  CURRENCY: currency,
} satisfies EnvSpec;

export interface CommonConfig {
  NODE_ENV: 'development' | 'production' | 'test';
  LOG_LEVEL: string;
  REDIS_URL: string;
  REDIS_CLUSTER_NODES?: string;
  DATABASE_URL: string;
  DATABASE_PREPARED_STATEMENTS: boolean;
  DATABASE_POOL_SIZE: number;
  QUEUE_PREFIX: string;
  QUEUE_PARTITIONS: number;
  ALLOW_PRIVATE_DESTINATIONS: boolean;
  METRICS_TOKEN?: string;
}

export interface IngestConfig extends CommonConfig {
  PORT: number;
  ADMIN_TOKEN: string;
  TRUST_PROXY: string;
  AUTH_FAILURES_PER_MINUTE: number;
  PING_EXPIRY_SECONDS: number;
  KEEP_ALIVE_TIMEOUT_SECONDS: number;
  /** ISO 4217 code of every amount (three uppercase letters). */
  CURRENCY: string;
}

export interface WorkerConfig extends CommonConfig {
  WORKER_PORT: number;
  WORKER_CONCURRENCY: number;
  PING_CONCURRENCY: number;
  SWEEP_INTERVAL_MS: number;
  /** 0: personal data is kept for ever. */
  PII_RETENTION_DAYS: number;
  /** Days pings and ping_bids are kept (by day partitions); 0: for ever. */
  PING_RETENTION_DAYS: number;
  /** Whole months lead_events and delivery_attempts keep a month after it ended (by month partitions); 0: for ever. */
  LEAD_HISTORY_RETENTION_MONTHS: number;
}

/**
 * The admin token used with `NODE_ENV=development` when ADMIN_TOKEN is not
 * set, and only then; printed at start. Public, so never good anywhere else.
 */
export const DEV_ADMIN_TOKEN = 'dev-admin-token-change-me';

export function loadIngestConfig(env: NodeJS.ProcessEnv = process.env): IngestConfig {
  if (env.NODE_ENV === 'development' && !env.ADMIN_TOKEN) {
    const { ADMIN_TOKEN: _set, ...others } = ingestEnv;
    return checkRedis({ ...parseEnv<Omit<IngestConfig, 'ADMIN_TOKEN'>>(others, env), ADMIN_TOKEN: DEV_ADMIN_TOKEN });
  }
  return checkRedis(parseEnv<IngestConfig>(ingestEnv, env));
}

export type CliConfig = Pick<
  CommonConfig,
  'DATABASE_URL' | 'REDIS_URL' | 'REDIS_CLUSTER_NODES' | 'QUEUE_PREFIX' | 'QUEUE_PARTITIONS'
> &
  Pick<IngestConfig, 'CURRENCY'>;

export function loadCliConfig(env: NodeJS.ProcessEnv = process.env): CliConfig {
  return checkRedis(parseEnv<CliConfig>(cliEnv, env));
}

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return checkRedis(parseEnv<WorkerConfig>(workerEnv, env));
}

/** One node of a Redis Cluster, as REDIS_CLUSTER_NODES names it. */
export interface ClusterNode {
  host: string;
  port: number;
}

/** Where Redis is: one server, or a Redis Cluster reached through some of its nodes. */
export type RedisTarget = { kind: 'server'; url: string } | { kind: 'cluster'; nodes: ClusterNode[] };

/** The Redis a process uses: REDIS_CLUSTER_NODES when set, otherwise REDIS_URL. */
export function redisTarget(config: Pick<CommonConfig, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>): RedisTarget {
  return config.REDIS_CLUSTER_NODES === undefined
    ? { kind: 'server', url: config.REDIS_URL }
    : { kind: 'cluster', nodes: clusterNodes(config.REDIS_CLUSTER_NODES) };
}

const NODE = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)):(\d{1,5})$/;

/** `host:port,host:port` (an IPv6 address in brackets: `[::1]:7000`) as nodes; throws on an entry that is neither. */
export function clusterNodes(value: string): ClusterNode[] {
  return value.split(',').map((entry) => {
    const m = NODE.exec(entry.trim());
    const port = Number(m?.[3]);
    if (!m || port < 1 || port > 65535 || (m[1] !== undefined && isIP(m[1]) !== 6))
      throw new Error(`${JSON.stringify(entry.trim())} is not host:port`);
    return { host: m[1] ?? m[2]!, port };
  });
}

function clusterNodesProblem(value: string): string | undefined {
  try {
    clusterNodes(value);
    return undefined;
  } catch (err) {
    return `it must be host:port,host:port,… (an IPv6 address in brackets, [::1]:7000): ${(err as Error).message}`;
  }
}

/**
 * What one variable alone cannot say: on a Redis Cluster, a hash tag as
 * QUEUE_PREFIX (`{leadrouter}`) would put every key in one slot and so on
 * one shard, whatever tags leadrouter gives its keys after it.
 */
function checkRedis<C extends Pick<CommonConfig, 'QUEUE_PREFIX' | 'REDIS_CLUSTER_NODES'>>(config: C): C {
  if (config.REDIS_CLUSTER_NODES !== undefined && config.QUEUE_PREFIX.includes('{'))
    throw new ConfigError(
      `QUEUE_PREFIX=${JSON.stringify(config.QUEUE_PREFIX)} is invalid with REDIS_CLUSTER_NODES: a hash tag puts every key in one slot, on one shard; use a plain name (leadrouter gives each queue and counter a hash tag of its own)`,
    );
  return config;
}
