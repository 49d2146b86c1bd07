// The quick start (`npm start`, scripts/quickstart.js) as a child process, and
// what its tests need to check that nothing it started outlives it.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { waitFor } from './wait';

const root = path.resolve(__dirname, '../..');

export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every process below `pid`, from /proc (Linux). */
export function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // "pid (comm) state ppid …": comm may hold spaces and parentheses.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* exited meanwhile */
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [child, ppid] of parents) {
      if (ppid === parent) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/**
 * One `node scripts/quickstart.js`, or `npm start` as a user types it, its
 * output collected with colours stripped.
 */
export class QuickStart {
  readonly proc: ChildProcess;
  output = '';
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(env: NodeJS.ProcessEnv, how: 'node' | 'npm start' = 'node') {
    // Its own process group, as in a terminal: the test can send it a Ctrl-C, and afterAll can kill whatever it started.
    const [command, args] = how === 'node' ? [process.execPath, ['scripts/quickstart.js']] : ['npm', ['start']];
    this.proc = spawn(command, args, {
      cwd: root,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer) => (this.output += chunk.toString('utf8').replace(/\x1b\[[0-9;]*m/g, ''));
    this.proc.stdout!.on('data', collect);
    this.proc.stderr!.on('data', collect);
    this.exited = new Promise((resolve) =>
      this.proc.once('close', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      }),
    );
  }

  /** Waits until `pattern` appears in the output; fails at once, with the output, if the process exits first. */
  async waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    await waitFor(() => this.exit ?? pattern.test(this.output), {
      timeoutMs,
      what: `quickstart output ${pattern}`,
    }).catch((error) => {
      throw new Error(`${(error as Error).message}\n--- quickstart output ---\n${this.output}`);
    });
    const match = pattern.exec(this.output);
    if (!match)
      throw new Error(`quickstart exited (${JSON.stringify(this.exit)}) before printing ${pattern}:\n${this.output}`);
    return match;
  }

  /** The pid of the `node scripts/quickstart.js` process: this one, or npm's child. */
  quickstartPid(): number {
    const pid = [this.proc.pid!, ...descendants(this.proc.pid!)].find((p) => commandLine(p).includes('quickstart.js'));
    if (pid === undefined) throw new Error(`no quickstart.js process under ${this.proc.pid}`);
    return pid;
  }

  /** SIGKILL to its whole process group: also what it started if it died itself. */
  kill(): void {
    if (this.proc.pid === undefined) return;
    try {
      process.kill(-this.proc.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}
