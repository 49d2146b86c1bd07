import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from '@leadrouter/config';

/** The path asked for (Express rewrites `req.url` inside routers). */
function urlOf(req: { url?: string; originalUrl?: string }): string {
  return req.originalUrl ?? req.url ?? '';
}

/** The request's id: a valid X-Request-Id given, or a new one; echoed in the answer's X-Request-Id. */
function requestId(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}

/** Health probes every few seconds would drown the log. */
const unlogged = (req: IncomingMessage) => req.url === '/healthz' || req.url === '/readyz' || req.url === '/metrics';

/** What an access line says of the request and the answer: never a body or a credential (see REDACT_PATHS too). */
const serializers = {
  req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
  res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
};

/**
 * Each request's id (`req.id`, X-Request-Id) and logger (`req.log`, which binds the id as `reqId`), and its access
 * line: at `info` for an answer, at `error` for a 5xx.
 *
 * When `info` is enabled, pino-http does it all. When it is not (production's `warn`), pino-http would still make
 * two child loggers per request, one of them with the request serialized and redacted, and listen for the answer,
 * to write nothing about most requests: about 6 % of the ingest's CPU under load (docs/performance.md, "The ingest's
 * request logging"). Then `req.log` is made on first use (an error's or a warning's line), and only a 5xx answer
 * writes its line, as pino-http would.
 */
export function requestLog(log: Logger): RequestHandler {
  if (log.isLevelEnabled('info')) {
    return pinoHttp({
      logger: log,
      genReqId: requestId,
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
      // One line per request, which says it all in development (where req and res are left out, logger.ts);
      // `req.log` carries the request id only.
      customSuccessMessage: (req, res, ms) => `${req.method} ${urlOf(req)} ${res.statusCode} ${ms} ms`,
      customErrorMessage: (req, res) => `${req.method} ${urlOf(req)} ${res.statusCode} failed`,
      quietReqLogger: true,
      autoLogging: { ignore: unlogged },
      serializers,
    });
  }
  return (req, res, next) => {
    const started = Date.now();
    const id = (req.id = requestId(req, res));
    let child: Logger | undefined;
    Object.defineProperty(req, 'log', { configurable: true, get: () => (child ??= log.child({ reqId: id })) });
    if (!unlogged(req)) {
      res.once('close', () => {
        if (res.statusCode < 500) return;
        req.log.error(
          {
            req: { id, method: req.method, url: urlOf(req) },
            res: { statusCode: res.statusCode },
            responseTime: Date.now() - started,
          },
          `${req.method} ${urlOf(req)} ${res.statusCode} failed`,
        );
      });
    }
    next();
  };
}
