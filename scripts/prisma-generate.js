#!/usr/bin/env node
// Generates the Prisma client offline: Prisma's CLI wants a schema-engine
// binary it cannot download here, and generation does not use it, so point it
// at a stub that fails (docs/decisions/0002-migrations.md).
//
// Prisma writes every file on every run. When the client comes out the same
// as before (every `npm test` and `npm run build` without a schema change),
// the files get their previous modification times back: whatever decides by
// them — tsc -b, the `leadrouter` bin choosing its build over tsx
// (packages/cli/bin/leadrouter.js) — sees nothing changed, because nothing did.
'use strict';
const { execFileSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const schema = path.join(root, 'prisma/schema.prisma');
/** The generator's `output` in schema.prisma. */
const generated = path.join(root, 'packages/db/src/generated');

/** Every file under `dir`: relative path → its content's hash and its times (none when `dir` is missing). */
function snapshot(dir) {
  const files = new Map();
  const walk = (d) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else {
        const { atimeMs, mtimeMs } = fs.statSync(p);
        const hash = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
        files.set(path.relative(dir, p), { hash, atimeMs, mtimeMs });
      }
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return files;
}

function sameContent(before, after) {
  return before.size === after.size && [...before].every(([file, { hash }]) => after.get(file)?.hash === hash);
}

const before = snapshot(generated);
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
const after = snapshot(generated);
if (before.size > 0 && sameContent(before, after)) {
  // Never older than schema.prisma, which the quick start takes for a client to regenerate (1 ms more
  // than the schema's time: times are set as seconds in floating point, which can lose a fraction of one).
  const schemaMs = fs.statSync(schema).mtimeMs;
  for (const [file, { atimeMs, mtimeMs }] of before) {
    fs.utimesSync(path.join(generated, file), atimeMs / 1000, (mtimeMs < schemaMs ? schemaMs + 1 : mtimeMs) / 1000);
  }
}
