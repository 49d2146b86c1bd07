/**
 * The API reference page (`GET /docs`): Swagger UI from the `swagger-ui-dist`
 * package, served by this service — no CDN, so it works offline and behind a
 * firewall, and its Content-Security-Policy allows nothing from elsewhere.
 */

/** The files under /docs/assets/: from swagger-ui-dist (`dist`) or written here (`text`). */
export const DOCS_ASSETS: Record<string, { type: string; dist?: string; text?: string }> = {
  'swagger-ui-bundle.js': { type: 'text/javascript', dist: 'swagger-ui-bundle.js' },
  'swagger-ui.css': { type: 'text/css', dist: 'swagger-ui.css' },
  'favicon-32x32.png': { type: 'image/png', dist: 'favicon-32x32.png' },
  // Starts Swagger UI. A file rather than an inline script, so the CSP needs no 'unsafe-inline'.
  'reference.js': {
    type: 'text/javascript',
    text: `'use strict';
(function () {
  var root = document.getElementById('swagger-ui');
  fetch('/openapi.json')
    .then(function (res) {
      if (!res.ok) throw new Error('GET /openapi.json answered ' + res.status);
      return res.json();
    })
    .then(function (spec) {
      // "Try it out" goes to the server that serves this page (the CSP allows no other).
      var here = window.location.origin;
      spec.servers = [{ url: here, description: 'this server' }].concat(
        (spec.servers || []).filter(function (s) { return s.url !== here; })
      );
      window.ui = SwaggerUIBundle({
        spec: spec,
        domNode: root,
        layout: 'BaseLayout',
        deepLinking: true,
        displayRequestDuration: true,
        defaultModelsExpandDepth: 0,
        // The default would load a badge from validator.swagger.io.
        validatorUrl: null,
      });
    })
    .catch(function (err) {
      root.textContent = 'Could not load the API description: ' + err.message;
    });
})();
`,
  },
};

export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>leadrouter API reference</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
<noscript>This page needs JavaScript. The API description itself is <a href="/openapi.json">/openapi.json</a>.</noscript>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/reference.js"></script>
</body>
</html>
`;

/**
 * Same-origin scripts, styles, fonts and requests only; images also as data:
 * URIs (Swagger UI's style sheet draws its icons that way). No inline script,
 * no eval, no framing, no forms posting elsewhere.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
