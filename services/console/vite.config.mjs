// The operator console's build: one hashed script and style sheet under
// dist/assets/, and dist/index.html, served by the ingest at /console
// (services/ingest/src/console/router.ts). No plugin: Preact's JSX is
// compiled by Vite's own transformer (oxc) with Preact as its import source.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/console/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    target: 'es2022',
    // Nothing inline: the page's Content-Security-Policy allows no inline script or style.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
  },
});
