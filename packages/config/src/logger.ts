import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Paths that can hold personal data. Jobs and logs carry ids, not people;
 * these make sure a lead that slips into a log line is still masked.
 */
export const REDACT_PATHS = [
  // Not a top-level `name`: that is pino's own logger name.
  'phone',
  'email',
  '*.phone',
  '*.email',
  '*.name',
  'lead',
  '*.lead',
  'req.body',
  'body',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'apiKey',
  'secret',
  'postbackSecret',
  '*.apiKey',
  '*.secret',
  '*.postbackSecret',
];

export interface LoggerOptions {
  level: string;
  pretty: boolean;
  name: string;
}

/** JSON logs in production; readable, still redacted, in development. */
export function createLogger(opts: LoggerOptions, destination?: pino.DestinationStream): Logger {
  const base: pino.LoggerOptions = {
    name: opts.name,
    level: opts.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  if (destination) return pino(base, destination);
  if (opts.pretty) {
    return pino({
      ...base,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' },
      },
    });
  }
  return pino(base);
}
