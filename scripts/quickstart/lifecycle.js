// What the quick start started, and stopping it again: on Ctrl-C / SIGTERM /
// SIGHUP, when a child process dies, or on a failure while preparing. Things
// stop in the reverse order they started (ingest and worker first, PostgreSQL
// last), so nothing loses its database or Redis while it is still finishing.
'use strict';
const { say } = require('./output');

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

  /** Ctrl-C, SIGTERM, SIGHUP (terminal closed): stop everything and exit 0; a second one kills the children. */
  handleSignals() {
    const onSignal = (signal) => {
      if (!this.#stopping) {
        process.stdout.write('\n');
        say('leadrouter', `${signal}: stopping (press Ctrl-C again to kill the processes at once)`);
        void this.exit(0);
        return;
      }
      say('leadrouter', `${signal} again: killing ingest and worker`);
      for (const proc of this.#killable) proc.kill('SIGKILL');
    };
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, onSignal);
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
