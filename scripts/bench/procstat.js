// CPU and memory of the processes under test, read from /proc while a phase
// runs: peak RSS (the largest VmRSS seen, or VmHWM) and average CPU % (user +
// system ticks over the phase's wall time; 100 % = one core).
'use strict';
const fs = require('node:fs');
const { execFileSync } = require('node:child_process');

let ticksPerSecond;
function clockTicks() {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime (ticks) and RSS (bytes) of one pid, or null when it is gone. */
function readProc(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces: fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // fields 14 and 15 of stat(5)
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { ticks, rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return null;
  }
}

/** Every pid whose command is `comm` (e.g. all PostgreSQL backends). */
function pidsNamed(comm) {
  const pids = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) pids.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return pids;
}

/**
 * Samples a set of processes every `intervalMs` until stop(); the set can be
 * given as pids or as a function returning pids (for processes started or
 * restarted during the phase, or a group such as every postgres backend).
 */
class ProcSampler {
  constructor(intervalMs = 250) {
    this.intervalMs = intervalMs;
    this.tracked = new Map(); // label -> { pids: () => number[], group, ticks: Map<pid, {first,last}>, peakRss }
  }

  track(label, pids, { group = false } = {}) {
    const get = typeof pids === 'function' ? pids : () => [].concat(pids);
    this.tracked.set(label, { get, group, ticks: new Map(), peakRss: 0 });
    return this;
  }

  start() {
    this.startedAt = performance.now();
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    return this;
  }

  sample() {
    for (const t of this.tracked.values()) {
      let rss = 0;
      for (const pid of t.get().filter(Boolean)) {
        const p = readProc(pid);
        if (!p) continue;
        const seen = t.ticks.get(pid);
        if (seen) seen.last = p.ticks;
        else t.ticks.set(pid, { first: p.ticks, last: p.ticks });
        rss = t.group ? rss + p.rss : Math.max(rss, p.rss, p.hwm);
      }
      t.peakRss = Math.max(t.peakRss, rss);
    }
  }

  /** { label: { peakRssMB, avgCpuPct, cpuMs } } over the time since start() (cpuMs: user + system CPU used). */
  stop() {
    this.sample();
    clearInterval(this.timer);
    const seconds = (performance.now() - this.startedAt) / 1000;
    const out = {};
    for (const [label, t] of this.tracked) {
      let ticks = 0;
      for (const { first, last } of t.ticks.values()) ticks += last - first;
      out[label] = {
        peakRssMB: Math.round((t.peakRss / 1048576) * 10) / 10,
        avgCpuPct: Math.round((ticks / clockTicks() / seconds) * 1000) / 10,
        cpuMs: Math.round((ticks / clockTicks()) * 1000),
      };
    }
    return out;
  }
}

module.exports = { ProcSampler, pidsNamed, readProc };
