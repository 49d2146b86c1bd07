// Whether the CLI's build (dist/) can run: it must be at least as new as the
// sources of the CLI and of every workspace package it loads. Plain CommonJS,
// required by bin/leadrouter.js before anything is built.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const SCOPE = '@leadrouter/';

/**
 * The CLI's package and the workspace packages it loads: its `@leadrouter/`
 * dependencies, theirs, and so on (read from each package.json, so a package
 * added or merged is followed without a list to keep up to date).
 */
function workspaces(packagesDir, start = 'cli') {
  const seen = new Set([start]);
  const visit = (name) => {
    const pkg = JSON.parse(fs.readFileSync(path.join(packagesDir, name, 'package.json'), 'utf8'));
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      if (!dep.startsWith(SCOPE)) continue;
      const next = dep.slice(SCOPE.length);
      if (seen.has(next)) continue;
      seen.add(next);
      visit(next);
    }
  };
  visit(start);
  return [...seen];
}

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

/**
 * The first workspace package whose build is missing or older than its
 * sources, or undefined when the whole build can run. A build is as new as
 * its files in dist/ or as tsc -b's tsconfig.tsbuildinfo, which tsc -b renews
 * when it finds sources touched but unchanged (a checkout, a rebase): it
 * leaves dist/ as it was then, having nothing new to write.
 */
function staleWorkspace(packagesDir) {
  return workspaces(packagesDir).find((name) => {
    const dir = path.join(packagesDir, name);
    const emitted = newest(path.join(dir, 'dist'), '.js');
    const built = Math.max(emitted, modified(path.join(dir, 'tsconfig.tsbuildinfo')));
    return emitted === 0 || built < newest(path.join(dir, 'src'), '.ts');
  });
}

module.exports = { staleWorkspace, workspaces };
