// Prisma 6.19's CLI with its WASM schema engine ("js" engine over
// @prisma/adapter-pg): it runs offline, unlike Prisma 7's, which downloads a
// binary. Used only by schema-diff.js for datamodel-to-datamodel diffs
// (docs/decisions/0002-migrations.md). The engine connects even for those, so
// schema-diff.js passes the maintenance database of the dev server.
'use strict';
const { defineConfig } = require('prisma/config');
const { PrismaPg } = require('@prisma/adapter-pg');

const connectionString = process.env.PRISMA_DEV_DATABASE_URL;
if (!connectionString)
  throw new Error('tools/prisma-dev/prisma.config.js is run by schema-diff.js, which sets PRISMA_DEV_DATABASE_URL');

module.exports = defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  // allowExitOnIdle: without it the CLI waits for the idle pool (10 s) before exiting.
  adapter: async () => new PrismaPg({ connectionString, allowExitOnIdle: true }),
});
