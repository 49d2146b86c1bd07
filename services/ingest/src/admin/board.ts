import { readFileSync } from 'node:fs';
import path from 'node:path';
import { notFound, unauthorized, unavailable } from '@leadrouter/core';
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
 * What the board's pages may load: scripts, styles, fonts, images and API
 * calls from this server only — nothing from a CDN or Google's font servers
 * (the page's fonts are served below it, see `boardFonts`). Styles may be
 * inline: the page's loading placeholder and the UI's components set them;
 * an inline style cannot run code. `base-uri 'self'` lets the page keep its
 * `<base href>`.
 */
export const BOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The weights Bull Board's page asks Google Fonts for (IBM Plex Sans 400–600, Mono 400–500). */
const FONT_FACES: readonly (readonly [string, readonly string[]])[] = [
  ['@fontsource/ibm-plex-sans', ['400', '500', '600']],
  ['@fontsource/ibm-plex-mono', ['400', '500']],
];

/** Where the board's page finds its fonts: under the board, relative to its `<base href>`. */
const FONTS_STYLESHEET = 'fonts/fonts.css';

interface BoardFonts {
  /** The @font-face rules of every weight, their URLs relative to the stylesheet. */
  css: string;
  /** Font file name → path on disk: only the files the rules name. */
  files: Map<string, string>;
}

/** The fonts from the @fontsource packages (on npm, installed with the ingest): read once, on first use. */
function readBoardFonts(): BoardFonts {
  const files = new Map<string, string>();
  const sheets = FONT_FACES.flatMap(([pkg, weights]) =>
    weights.map((weight) => {
      const file = require.resolve(`${pkg}/${weight}.css`);
      return readFileSync(file, 'utf8').replace(/url\(\.\/files\/([\w.-]+)\)/g, (_, name: string) => {
        files.set(name, path.join(path.dirname(file), 'files', name));
        return `url(files/${name})`;
      });
    }),
  );
  return { css: sheets.join('\n'), files };
}

/** Bull Board's page with its Google Fonts link replaced by the local stylesheet. */
export function withLocalFonts(html: string): string {
  return html.replace(
    /<link\b[^>]*\bhref="https:\/\/fonts\.googleapis\.com\/[^"]*"[^>]*>/g,
    `<link href="${FONTS_STYLESHEET}" rel="stylesheet">`,
  );
}

const FONT_MAX_AGE_MS = 7 * 24 * 3600_000;

/**
 * Bull Board over every queue of the job catalog, behind the admin token.
 * Read-only except for retrying failed jobs (the processors are idempotent):
 * state changes go through the admin API or the CLI, which keep PostgreSQL —
 * the source of truth — and Redis in step. A job removed here by hand would be
 * put back by the sweeper anyway.
 *
 * It works with no internet access: its page loads nothing from elsewhere
 * (its fonts are served here, from npm packages, and a Content-Security-
 * Policy allows this origin only).
 *
 * Bull Board is loaded on the first request that passes the token, not at
 * start: a process that only takes leads never holds it (ADR 0009).
 */
export function queuesBoard({ config, queues }: IngestDeps): Router {
  let board: Promise<Router> | undefined;
  let fonts: BoardFonts | undefined;
  const router = Router();
  router.use(boardAuth(config.ADMIN_TOKEN));
  router.use((_req, res, next) => {
    res.set({
      'Content-Security-Policy': BOARD_CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
    next();
  });
  router.get(`/${FONTS_STYLESHEET}`, (_req, res) => {
    fonts ??= readBoardFonts();
    res
      .set('Cache-Control', `public, max-age=${FONT_MAX_AGE_MS / 1000}`)
      .type('text/css')
      .send(fonts.css);
  });
  router.get('/fonts/files/:file', (req, res) => {
    fonts ??= readBoardFonts();
    const file = fonts.files.get(String(req.params.file));
    if (!file) throw notFound('font');
    res.sendFile(file, { maxAge: FONT_MAX_AGE_MS });
  });
  // Bull Board renders its page with res.render: the rendered page gets the local fonts.
  router.use((req, res, next) => {
    const render = res.render.bind(res);
    res.render = (view: string, options?: object) =>
      render(view, options ?? {}, (err: Error | null, html?: string) => {
        if (err) (req.next ?? next)(err);
        else res.type('html').send(withLocalFonts(html ?? ''));
      });
    next();
  });
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
    // Every sub-queue (ADR 0024), named after its queue: `route`, or `route 2/4` when split.
    queues: queues.all().flatMap(({ name, parts }) =>
      parts.map(
        (part, i) =>
          new BullMQAdapter(part, {
            readOnlyMode: true,
            allowRetries: true,
            displayName: parts.length === 1 ? name : `${name} ${i + 1}/${parts.length}`,
          }),
      ),
    ),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'leadrouter' } },
  });
  return serverAdapter.getRouter() as Router;
}
