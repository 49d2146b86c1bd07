#!/usr/bin/env node
// The `leadrouter` command (npx leadrouter …). Runs the build (dist/) when it
// is at least as new as the sources of the CLI and every package it uses, and
// otherwise the TypeScript sources through tsx — so it works on a fresh clone
// without a build and never runs a stale one (as scripts/run-migrate.js does).
// A build is as new as its files in dist/ or as tsc -b's tsconfig.tsbuildinfo,
// which tsc -b renews when it finds sources touched but unchanged (a checkout,
// a rebase): it leaves dist/ as it was then, having nothing new to write.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { pathToFileURL } = require('node:url');

const cliDir = path.resolve(__dirname, '..');
const packagesDir = path.dirname(cliDir);
/** The CLI and the workspace packages it loads. */
const WORKSPACES = ['cli', 'operations', 'config', 'core', 'db', 'queue'];

/** The newest modification time of the files under `dir` whose names end with `ext` (0 when none). */
function newest(dir, ext) {
  let latest = 0;
  const walk = (d) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith(ext) && !entry.name.endsWith(`.test${ext}`))
        latest = Math.max(latest, fs.statSync(p).mtimeMs);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return latest;
}

function modified(file) {
  return fs.existsSync(file) ? fs.statSync(file).mtimeMs : 0;
}

function buildIsCurrent() {
  return WORKSPACES.every((ws) => {
    const dir = path.join(packagesDir, ws);
    const emitted = newest(path.join(dir, 'dist'), '.js');
    const built = Math.max(emitted, modified(path.join(dir, 'tsconfig.tsbuildinfo')));
    return emitted > 0 && built >= newest(path.join(dir, 'src'), '.ts');
  });
}

function tsxLoader() {
  try {
    return require.resolve('tsx', { paths: [cliDir] });
  } catch {
    return undefined;
  }
}

const built = path.join(cliDir, 'dist', 'main.js');
const loader = buildIsCurrent() ? undefined : tsxLoader();
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
