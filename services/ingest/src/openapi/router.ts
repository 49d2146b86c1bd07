import path from 'node:path';
import { Router } from 'express';
import { notFound } from '@leadrouter/core';
import { buildOpenApiDocument } from './document.js';
import { DOCS_ASSETS, DOCS_CSP, DOCS_PAGE } from './assets.js';

const ASSET_MAX_AGE_MS = 3600_000;

/**
 * `GET /openapi.json` and the API reference page `GET /docs` (with its
 * assets): public, no key. The document is built on its first request, not
 * at start (a process that only takes leads never holds it).
 */
export function openapiRouter(): Router {
  const router = Router();
  let document: string | undefined;
  const swaggerUiDir = path.dirname(require.resolve('swagger-ui-dist/package.json'));

  router.get('/openapi.json', (_req, res) => {
    document ??= JSON.stringify(buildOpenApiDocument());
    res.set('Cache-Control', 'no-cache').type('application/json').send(document);
  });

  router.get('/docs', (_req, res) => {
    res
      .set({
        'Content-Security-Policy': DOCS_CSP,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        'Cache-Control': 'no-cache',
      })
      .type('html')
      .send(DOCS_PAGE);
  });

  router.get('/docs/assets/:file', (req, res) => {
    const name = String(req.params.file);
    const asset = Object.hasOwn(DOCS_ASSETS, name) ? DOCS_ASSETS[name] : undefined;
    if (!asset) throw notFound('asset');
    res.set('X-Content-Type-Options', 'nosniff').type(asset.type);
    if (asset.text !== undefined) {
      res.set('Cache-Control', `public, max-age=${ASSET_MAX_AGE_MS / 1000}`).send(asset.text);
      return;
    }
    res.sendFile(asset.dist!, { root: swaggerUiDir, maxAge: ASSET_MAX_AGE_MS });
  });

  return router;
}
