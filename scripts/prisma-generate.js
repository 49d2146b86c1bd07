#!/usr/bin/env node
// Generates the Prisma client offline: Prisma's CLI wants a schema-engine
// binary it cannot download here, and generation does not use it, so point it
// at a stub that fails (docs/decisions/0002-migrations.md).
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
execFileSync(
  process.execPath,
  [require.resolve('prisma/build/index.js', { paths: [path.join(root, 'packages/db')] }), 'generate'],
  {
    cwd: root,
    stdio: process.argv.includes('--quiet') ? ['ignore', 'ignore', 'inherit'] : 'inherit',
    env: {
      ...process.env,
      PRISMA_SCHEMA_ENGINE_BINARY: path.join(root, 'scripts/no-schema-engine.sh'),
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
      CHECKPOINT_DISABLE: '1',
    },
  },
);
