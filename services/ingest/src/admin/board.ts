import { unauthorized, unavailable } from '@leadrouter/core';
import type { Queues } from '@leadrouter/queue';
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { IngestDeps } from '../deps.js';
import { isAdminToken, presentedKey } from '../http/auth.js';

export const BOARD_PATH = '/admin/queues';

/**
 * The admin token as a bearer token, or as the password of HTTP Basic (any
 * user name) so a browser can open the board: it asks for credentials when
 * answered 401 with `WWW-Authenticate: Basic`.
 */
export function boardAuth(adminToken: string) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const header = req.get('authorization')?.trim() ?? '';
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
    const decoded = basic ? Buffer.from(basic[1]!, 'base64').toString('utf8') : undefined;
    const key = decoded !== undefined ? decoded.slice(decoded.indexOf(':') + 1) : presentedKey(req);
    if (decoded !== undefined && !decoded.includes(':')) {
      // not user:password
    } else if (isAdminToken(key, adminToken)) {
      req.isAdmin = true;
      return next();
    }
    res.setHeader('WWW-Authenticate', 'Basic realm="leadrouter", charset="UTF-8"');
    throw unauthorized('admin token required: as the password of HTTP Basic (any user name), or as a bearer token');
  };
}

/**
 * Bull Board over every queue of the job catalog, behind the admin token.
 * Read-only except for retrying failed jobs (the processors are idempotent):
 * state changes go through the admin API or the CLI, which keep PostgreSQL —
 * the source of truth — and Redis in step. A job removed here by hand would be
 * put back by the sweeper anyway.
 *
 * Bull Board is loaded on the first request that passes the token, not at
 * start: a process that only takes leads never holds it (ADR 0009).
 */
export function queuesBoard({ config, queues }: IngestDeps): Router {
  let board: Promise<Router> | undefined;
  const router = Router();
  router.use(boardAuth(config.ADMIN_TOKEN));
  router.use('/api', (_req, _res, next) => {
    // Its reads would wait for a connection that has never been up (BullMQ waits for the first one).
    if (!queues.connected) throw unavailable('Redis is not connected; the board cannot read the queues', 5);
    next();
  });
  router.use(async (req, res, next) => {
    // A load that failed is tried again by the next request.
    board ??= loadBoard(queues).catch((err: unknown) => {
      board = undefined;
      throw err;
    });
    (await board)(req, res, next);
  });
  return router;
}

async function loadBoard(queues: Queues): Promise<Router> {
  const [{ createBullBoard }, { BullMQAdapter }, { ExpressAdapter }] = await Promise.all([
    import('@bull-board/api'),
    import('@bull-board/api/bullMQAdapter'),
    import('@bull-board/express'),
  ]);
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: queues.all().map((q) => new BullMQAdapter(q, { readOnlyMode: true, allowRetries: true })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'leadrouter' } },
  });
  return serverAdapter.getRouter() as Router;
}
