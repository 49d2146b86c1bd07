import express, { type Express } from 'express';
import { AppError } from '@leadrouter/core';
import { READY, runStatement, sqlPool } from '@leadrouter/db';
import { trustProxySetting } from '@leadrouter/config';
import { createIngestMetrics, metricsHandler } from '@leadrouter/metrics';
import type { AppDeps, IngestDeps } from './deps.js';
import { adminAuth } from './http/auth.js';
import { AuthFailureLimits } from './http/auth-failures.js';
import { RejectionLog } from './leads/rejections.js';
import { errorHandler, sendError } from './http/errors.js';
import { requestLog } from './http/request-log.js';
import { leadsRouter } from './leads/router.js';
import { openapiRouter } from './openapi/router.js';
import { partnersRouter } from './admin/partners.js';
import { routesRouter } from './admin/routes.js';
import { sourcesRouter } from './admin/sources.js';
import { statsRouter } from './admin/stats.js';
import { deadLettersRouter } from './admin/dead-letters.js';
import { leadSearchRouter } from './admin/leads.js';
import { returnsRouter } from './admin/returns.js';
import { feedbackRouter } from './feedback/router.js';
import { adminReportsRouter, sourceReportsRouter } from './reports/router.js';
import { queuesRouter } from './admin/queues.js';
import { BOARD_PATH, queuesBoard } from './admin/board.js';
import { sessionRouter } from './admin/session.js';
import { CONSOLE_PATH, consoleRouter } from './console/router.js';
import { SessionStore } from './http/session.js';
import { SignInThrottle } from './http/sign-in-throttle.js';

/** The ingest HTTP app: source-facing lead API, admin API, health. */
export function createApp(given: IngestDeps): Express {
  const deps: AppDeps = {
    ...given,
    metrics: given.metrics ?? createIngestMetrics({ processMetrics: false }),
    rejections: given.rejections ?? new RejectionLog(given.db, given.log),
    authFailures:
      given.authFailures ??
      new AuthFailureLimits(undefined, given.config.QUEUE_PREFIX, given.config.AUTH_FAILURES_PER_MINUTE),
  };
  const app = express();
  app.disable('x-powered-by');
  // Which proxies may name the client's address (req.ip, which the throttles count by): none unless TRUST_PROXY says.
  app.set('trust proxy', trustProxySetting(deps.config.TRUST_PROXY));
  app.set('query parser', 'simple');

  app.use(requestLog(deps.log));

  // Request durations by route pattern (never the raw URL: ids would make labels unbounded).
  app.use((req, res, next) => {
    const stop = deps.metrics.httpDuration.startTimer();
    res.on('finish', () => {
      const route = req.route ? `${req.baseUrl}${String((req.route as { path: string }).path)}` : 'unmatched';
      stop({ method: req.method, route, status: `${Math.floor(res.statusCode / 100)}xx` });
    });
    next();
  });

  app.get('/metrics', metricsHandler(deps.metrics.registry, deps.config.METRICS_TOKEN));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // Health and the lead API run no Prisma query, only node-postgres (ADR 0009).
  const pool = sqlPool(deps.db);
  app.get('/readyz', async (_req, res) => {
    const timeout = <T>(p: Promise<T>) =>
      Promise.race([
        p,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000).unref()),
      ]);
    const [redis, postgres] = await Promise.all([
      timeout(deps.queues.ping()).then(
        () => true,
        () => false,
      ),
      timeout(runStatement(pool, READY, {})).then(
        () => true,
        () => false,
      ),
    ]);
    res
      .status(redis && postgres ? 200 : 503)
      .json({ status: redis && postgres ? 'ok' : 'unavailable', checks: { redis, postgres } });
  });

  app.use(openapiRouter());
  app.use(leadsRouter(deps));
  app.use('/v1/feedback', feedbackRouter(deps));
  app.use('/v1/reports', sourceReportsRouter(deps));

  // The console signs in here, before the admin API's gate, which takes its session cookie too (ADR 0018).
  const sessions = new SessionStore(deps.db, deps.config.ADMIN_TOKEN);
  app.use(
    '/v1/admin/session',
    sessionRouter(sessions, deps.config.ADMIN_TOKEN, deps.signInThrottle ?? new SignInThrottle()),
  );
  const admin = express.Router();
  admin.use(adminAuth(deps.config.ADMIN_TOKEN, sessions));
  admin.use('/sources', sourcesRouter(deps));
  admin.use('/partners', partnersRouter(deps));
  admin.use('/routes', routesRouter(deps));
  admin.use('/stats', statsRouter(deps));
  admin.use('/reports', adminReportsRouter(deps));
  admin.use('/dead-letters', deadLettersRouter(deps));
  admin.use('/leads', leadSearchRouter(deps));
  admin.use('/returns', returnsRouter(deps));
  admin.use('/queues', queuesRouter(deps));
  app.use('/v1/admin', admin);
  app.use(BOARD_PATH, queuesBoard(deps));
  app.use(CONSOLE_PATH, consoleRouter());

  app.use((req, res) => {
    sendError(res, new AppError('not_found', `no such endpoint: ${req.method} ${req.path}`, 404));
  });
  app.use(errorHandler);
  return app;
}
