#!/usr/bin/env node
// The `leadrouter` command (npx leadrouter …). Runs the build (dist/) when it
// is at least as new as the sources of the CLI and every package it uses
// (build-state.js), and otherwise the TypeScript sources through tsx — so it
// works on a fresh clone without a build and never runs a stale one (as
// scripts/run-migrate.js does). Through tsx a command starts several times
// slower: with LEADROUTER_CLI_TRACE=1 it says which it runs, and why.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { pathToFileURL } = require('node:url');

const cliDir = path.resolve(__dirname, '..');
const { staleWorkspace } = require('./build-state.js');

function tsxLoader() {
  try {
    return require.resolve('tsx', { paths: [cliDir] });
  } catch {
    return undefined;
  }
}

const built = path.join(cliDir, 'dist', 'main.js');
const stale = staleWorkspace(path.dirname(cliDir));
const loader = stale === undefined ? undefined : tsxLoader();
if (process.env.LEADROUTER_CLI_TRACE)
  console.error(
    loader
      ? `leadrouter: running the sources through tsx (packages/${stale} has no build or sources newer than it: npm run build)`
      : 'leadrouter: running the build (dist/)',
  );
if (!loader) {
  if (!fs.existsSync(built)) {
    console.error('leadrouter: packages/cli is not built and tsx is not installed: run npm install, or npm run build');
    process.exit(1);
  }
  require(built);
} else {
  const result = spawnSync(
    process.execPath,
    [
      '--import',
      pathToFileURL(loader).href,
      '--conditions=@leadrouter/source',
      path.join(cliDir, 'src', 'main.ts'),
      ...process.argv.slice(2),
    ],
    { stdio: 'inherit' },
  );
  if (result.error) {
    console.error(`leadrouter: cannot start: ${result.error.message}`);
    process.exit(1);
  }
  if (result.signal) process.kill(process.pid, result.signal);
  process.exit(result.status ?? 1);
}
