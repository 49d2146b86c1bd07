#!/usr/bin/env node
// Summarises a V8 CPU profile (node --cpu-prof, or npm run bench -- --profile):
// where the process spent its time, by package and by function (self time).
//
//   node scripts/bench/profile-summary.js <file>.cpuprofile [top] [skip seconds]
//
// `skip` leaves out the first seconds (start-up, warm-up).
'use strict';
const fs = require('node:fs');

const [file, topArg, skipArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: profile-summary.js <file.cpuprofile> [top]');
  process.exit(1);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));

// Self time per node: the sampling intervals attributed to it.
const self = new Map();
const skipUs = Number(skipArg ?? 0) * 1e6;
let t = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i] ?? 0;
  t += dt;
  if (t < skipUs) continue;
  self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
}
// Idle time is not work: percentages are of the busy time.
for (const [id] of self) if (nodes.get(id).callFrame.functionName === '(idle)') self.delete(id);
const total = [...self.values()].reduce((a, b) => a + b, 0);

/** The package (node_modules/<name>), workspace (packages/x, services/x), node internals, or a V8 pseudo-frame. */
function owner(url, name) {
  if (!url) return `(${name || 'native'})`;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  const ws = /\/(packages|services)\/([^/]+)\//.exec(url);
  if (ws) return `${ws[1]}/${ws[2]}`;
  if (url.startsWith('node:')) return 'node internals';
  return url;
}

const byOwner = new Map();
const byFunction = new Map();
for (const [id, us] of self) {
  const { callFrame: f } = nodes.get(id);
  const o = owner(f.url, f.functionName);
  byOwner.set(o, (byOwner.get(o) ?? 0) + us);
  const key = `${f.functionName || '(anonymous)'}  ${o}${f.url ? `:${f.lineNumber + 1}` : ''}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
}

const pct = (us) => `${((us / total) * 100).toFixed(1).padStart(5)} %`;
const list = (map) =>
  [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, us]) => `${pct(us)}  ${k}`)
    .join('\n');
console.log(`${file}: ${(total / 1e6).toFixed(1)} s busy\n\nself time by package\n${list(byOwner)}`);
console.log(`\nself time by function\n${list(byFunction)}`);
