// What the quick start started, and stopping it again: on Ctrl-C / SIGTERM /
// SIGHUP, when a child process dies, or on a failure while preparing. Things
// stop in the reverse order they started (ingest and worker first, PostgreSQL
// last), so nothing loses its database or Redis while it is still finishing.
'use strict';
const { say } = require('./output');

/** How close a second signal must follow the first to be the same Ctrl-C, delivered twice. */
const REPEAT_MS = 1000;

class Lifecycle {
  /** @type {{ what: string, stop: () => Promise<void> }[]} */
  #owned = [];
  /** Child processes to SIGKILL on a second Ctrl-C. */
  #killable = new Set();
  #stopping = false;

  get stopping() {
    return this.#stopping;
  }

  /**
   * Records something to stop on exit. Registered at once when it starts (not
   * once it is ready), so a Ctrl-C in between still stops it.
   */
  own(what, stop) {
    this.#owned.push({ what, stop });
  }

  /** A process that a second Ctrl-C kills outright. */
  killable(proc) {
    this.#killable.add(proc);
    proc.once('exit', () => this.#killable.delete(proc));
  }

  /**
   * Ctrl-C, SIGTERM, SIGHUP (terminal closed): stop everything and exit 0; a
   * second one kills the children. Under `npm start` a Ctrl-C arrives twice:
   * the terminal sends SIGINT to npm and the quick start alike, and npm
   * forwards its own; a signal within REPEAT_MS of the first is that copy.
   */
  handleSignals() {
    let first = 0;
    const onSignal = (signal) => {
      if (!this.#stopping) {
        first = Date.now();
        if (!process.stdout.destroyed) process.stdout.write('\n');
        say('leadrouter', `${signal}: stopping (press Ctrl-C again to kill the processes at once)`);
        void this.exit(0);
        return;
      }
      if (Date.now() - first < REPEAT_MS) return;
      say('leadrouter', `${signal} again: killing ingest and worker`);
      for (const proc of this.#killable) proc.kill('SIGKILL');
    };
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, onSignal);
  }

  /**
   * Stops everything when the terminal or pipe our output goes to is gone
   * (`npm start | head`, a pager quit): writing to it fails with EPIPE, which
   * would otherwise end the quick start with an uncaught error and leave a
   * Redis or PostgreSQL it started behind. What we stop is no longer printed.
   */
  stopWhenOutputGone() {
    const onError = () => {
      if (this.#stopping) return;
      void this.exit(0);
    };
    process.stdout.on('error', onError);
    process.stderr.on('error', onError);
  }

  /**
   * Stops everything when the process that started the quick start is gone
   * (npm killed with SIGKILL, the shell around it closed): the quick start
   * would otherwise run on, orphaned, holding its ports.
   */
  stopWithParent() {
    const parent = process.ppid;
    const timer = setInterval(() => {
      if (process.ppid === parent || this.#stopping) return;
      clearInterval(timer);
      say('leadrouter', `the process that started npm start (pid ${parent}) is gone: stopping`);
      void this.exit(0);
    }, 500);
    timer.unref();
  }

  /** Stops everything owned, newest first, then exits: with `code`, or 1 if something failed to stop cleanly. */
  async exit(code) {
    if (this.#stopping) return;
    this.#stopping = true;
    // A failure before anything started is reported by its own one line.
    const quiet = code !== 0 && this.#owned.length === 0;
    let exitCode = code;
    // Popped one by one: something a step still starts while we stop is stopped too.
    while (this.#owned.length > 0) {
      const { what, stop } = this.#owned.pop();
      try {
        await stop();
      } catch (error) {
        say('leadrouter', `could not stop ${what} cleanly: ${error.message}`, process.stderr);
        exitCode = exitCode || 1;
      }
    }
    if (!quiet) say('leadrouter', exitCode === 0 ? 'stopped' : `stopped (exit code ${exitCode})`);
    process.exit(exitCode);
  }
}

module.exports = { Lifecycle };
