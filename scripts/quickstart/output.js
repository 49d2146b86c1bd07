// The quick start's terminal output: every line carries the name of the
// process it comes from ("ingest  | …"), coloured when the terminal is a TTY.
'use strict';
const readline = require('node:readline');

const WIDTH = 10;
const COLOURS = { leadrouter: '1', ingest: '36', worker: '35', partner: '33' };

/** A one-line failure the user has to act on: printed without a stack trace. */
class QuickstartError extends Error {
  name = 'QuickstartError';
}

function prefix(label, stream) {
  const text = `${label.padEnd(WIDTH)} |`;
  return stream.isTTY ? `\x1b[${COLOURS[label] ?? '2'}m${text}\x1b[0m ` : `${text} `;
}

/** Writes `line` to stdout (or `stream`) under `label`; nothing once the stream is gone (a broken pipe). */
function say(label, line, stream = process.stdout) {
  if (!stream.destroyed) stream.write(`${prefix(label, stream)}${line}\n`);
}

/** Copies a child's output line by line, each under `label`; resolves when the stream ends. */
function pipeLines(input, label, stream) {
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  lines.on('line', (line) => say(label, line, stream));
  return new Promise((resolve) => lines.once('close', resolve));
}

const bold = (text) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);

module.exports = { QuickstartError, say, pipeLines, bold };
