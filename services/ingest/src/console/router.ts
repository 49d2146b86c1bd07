import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Router, static as serveStatic, type Response } from 'express';
import { AppError, notFound } from '@leadrouter/core';

export const CONSOLE_PATH = '/console';

/**
 * The console page's policy: its own scripts, styles and API only — no
 * inline script or style, no eval, nothing from another origin, no framing.
 * Images: its own and data: URIs (the empty favicon).
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONSOLE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

/** Where the console's build (services/console, `vite build`) is: its package's dist/. */
export function consoleDist(): string {
  return path.join(path.dirname(require.resolve('@leadrouter/console/package.json')), 'dist');
}

/**
 * `/console`: the operator console, a single-page app built by Vite
 * (ADR 0018). Its hashed files under `/console/assets/` are cached for a
 * year (`immutable`: a new build has new names); every other path under
 * `/console` is a page of the app and answers its index.html, never cached,
 * so that a reload of `/console/leads/<id>` works and a new build is picked up.
 * The app itself talks only to the admin API.
 */
export function consoleRouter(dist = consoleDist()): Router {
  const router = Router();
  let index: Promise<string> | undefined;

  router.use(
    '/assets',
    serveStatic(path.join(dist, 'assets'), {
      immutable: true,
      maxAge: '365d',
      index: false,
      fallthrough: true,
      setHeaders: (res) => res.set(SECURITY_HEADERS),
    }),
    () => {
      throw notFound('console asset');
    },
  );

  router.get('/{*page}', async (_req, res: Response) => {
    index ??= readFile(path.join(dist, 'index.html'), 'utf8').catch((err: unknown) => {
      index = undefined; // built later: the next request looks again
      throw err;
    });
    let html: string;
    try {
      html = await index;
    } catch {
      throw new AppError(
        'unavailable',
        'the console has not been built: run `npm run build` (it builds services/console)',
        503,
      );
    }
    res
      .set({ ...SECURITY_HEADERS, 'Cache-Control': 'no-cache' })
      .type('html')
      .send(html);
  });

  return router;
}
