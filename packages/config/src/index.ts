export { ConfigError, withoutCredentials, type EnvVar } from './env.js';
export {
  DEFAULT_KEEP_ALIVE_TIMEOUT_SECONDS,
  DEFAULT_PING_RETENTION_DAYS,
  DEV_ADMIN_TOKEN,
  MAX_QUEUE_PARTITIONS,
  ingestEnv,
  loadCliConfig,
  loadIngestConfig,
  loadWorkerConfig,
  redisTarget,
  trustProxySetting,
  workerEnv,
  type CliConfig,
  type IngestConfig,
  type RedisTarget,
  type WorkerConfig,
} from './config.js';
export { createLogger, type Logger } from './logger.js';
