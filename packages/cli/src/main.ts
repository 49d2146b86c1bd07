import { run } from './program.js';

// `leadrouter …` (packages/cli/bin/leadrouter.js runs this): the process around
// `run`, which does the work and never exits by itself. The exit code is set
// rather than forced, so output piped to another program is never cut short.
void run(process.argv, { stdout: process.stdout, stderr: process.stderr, env: process.env }).then((code) => {
  process.exitCode = code;
  // Everything is closed by now; this only guards against a handle left open by a library.
  setTimeout(() => process.exit(code), 5000).unref();
});
