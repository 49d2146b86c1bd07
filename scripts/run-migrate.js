#!/usr/bin/env node
// npm run db:migrate — creates the database if needed and applies
// prisma/migrations with @leadrouter/db's Prisma-compatible runner (no Prisma
// engine; docs/decisions/0002-migrations.md). Uses the built
// packages/db/dist/migrate.js when present, else the TypeScript source through
// tsx, so it works on a fresh clone without a build.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/leadrouter';
const root = path.resolve(__dirname, '..');

function loadRunner() {
  const built = path.join(root, 'packages/db/dist/migrate.js');
  const source = path.join(root, 'packages/db/src/migrate.ts');
  const mtime = (file) => (fs.existsSync(file) ? fs.statSync(file).mtimeMs : undefined);
  const builtAt = mtime(built);
  const sourceAt = mtime(source);
  // The build, unless the source changed after it (a stale dist/ would
  // otherwise silently run old code).
  if (builtAt !== undefined && (sourceAt === undefined || builtAt >= sourceAt)) return require(built);
  let tsx;
  try {
    tsx = require('tsx/cjs/api');
  } catch (error) {
    if (builtAt !== undefined) {
      console.error('db:migrate: packages/db/dist is older than its source and tsx is not installed; using the build');
      return require(built);
    }
    throw new Error(
      `packages/db is not built and tsx is not installed: run npm install, or npm run build (${error.message})`,
    );
  }
  // tsx's scoped require compiles this module graph only; nothing is registered globally.
  return tsx.require(source, __filename);
}

function databaseName(databaseUrl) {
  try {
    return decodeURIComponent(new URL(databaseUrl).pathname.slice(1)) || databaseUrl;
  } catch {
    return '(invalid DATABASE_URL)';
  }
}

async function main() {
  const databaseUrl = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
  const { ensureDatabase, applyMigrations } = loadRunner();
  const name = databaseName(databaseUrl);
  const created = await ensureDatabase(databaseUrl);
  if (created) console.log(`created database ${name}`);
  const { applied } = await applyMigrations({ databaseUrl, log: (line) => console.log(line) });
  console.log(
    applied.length === 0
      ? `database ${name} is up to date`
      : `applied ${applied.length} migration${applied.length === 1 ? '' : 's'} to ${name}`,
  );
}

main().catch((error) => {
  // One line: MigrationError messages say what to do; others (e.g. a refused
  // password) carry PostgreSQL's message and code.
  let message = error instanceof Error ? error.message : String(error);
  if (error && error.name !== 'MigrationError' && typeof error.code === 'string') message += ` (${error.code})`;
  console.error(`db:migrate failed: ${message.replace(/\s*\n\s*/g, ' ')}`);
  process.exit(1);
});
