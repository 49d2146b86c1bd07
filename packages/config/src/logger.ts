import pino, { type Logger } from 'pino';
import type * as PinoPretty from 'pino-pretty';

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
  /** Colours in readable logs; by default `colourWanted()`: a terminal or FORCE_COLOR, never a pipe or a file as such. */
  colour?: boolean;
}

/**
 * Fields that readable logs leave out: pino-http's request and response
 * objects and time, which its message already says in one line
 * ("POST /v1/leads 202 3 ms"; services/ingest/src/app.ts).
 */
const PRETTY_IGNORE = 'pid,hostname,req,res,responseTime';

/**
 * Whether readable logs are coloured: on a terminal, or when `FORCE_COLOR`
 * asks (the quick start sets it for its children when its own output is a
 * terminal; ADR 0017); never with `NO_COLOR`. Not merely because `CI` is set,
 * as pino-pretty's default would: a pipe or a file gets no escape codes.
 */
function colourWanted(): boolean {
  const { NO_COLOR, FORCE_COLOR } = process.env;
  if (NO_COLOR !== undefined) return false;
  if (FORCE_COLOR !== undefined && FORCE_COLOR !== '0') return true;
  return process.stdout.isTTY === true;
}

/**
 * JSON logs in production; readable in development: one line per entry,
 * coloured only as `colourWanted` says, still redacted. Both write to stdout
 * synchronously, in this thread, through pino's own
 * destination, so that a broken stdout can never hold up an exit:
 *
 * - the destination turns into a no-op on the first EPIPE (the reader of the
 *   pipe is gone: `… | head -1`), and the process goes on without logs;
 * - nothing is left buffered at `process.exit()`. An asynchronous destination
 *   (pino's default) flushes its buffer at exit with sonic-boom's `flushSync`,
 *   which retries a write that fails with EPIPE forever; the `pino-pretty`
 *   transport's worker thread stops reading once its stdout breaks, and the
 *   exit waited 10 s for it and then failed (ADR 0017).
 */
export function createLogger(opts: LoggerOptions, destination?: pino.DestinationStream): Logger {
  const base: pino.LoggerOptions = {
    name: opts.name,
    level: opts.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  if (destination) return pino(base, destination);
  const stdout = pino.destination({ dest: 1, sync: true });
  if (!opts.pretty) return pino(base, stdout);
  // Loaded here, not at import: production logs JSON, and pino-pretty with its dependencies would stay in every
  // process's heap for nothing (about 0.5 MB; V8 lets a heap grow to about four times what it keeps, so about
  // 2 MB of the worker's peak RSS: docs/performance.md, "The worker's peak RSS").
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded when readable logs are asked for only
  const { prettyFactory } = require('pino-pretty') as typeof PinoPretty;
  const prettify = prettyFactory({
    colorize: opts.colour ?? colourWanted(),
    singleLine: true,
    translateTime: 'HH:MM:ss.l',
    ignore: PRETTY_IGNORE,
  });
  return pino(base, { write: (line: string) => stdout.write(prettify(line)) });
}
