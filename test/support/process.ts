import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { waitFor } from './wait';

const ROOT = path.resolve(__dirname, '../..');

/**
 * Node flags that run a service's TypeScript sources in one process (tsx as a
 * loader, not its CLI, which would put a second process in between that a
 * signal or kill would not reach).
 */
export const TS_NODE_ARGS = ['--import', 'tsx', '--conditions=@leadrouter/source'];

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * A real ingest or worker process (from the TypeScript sources, through tsx),
 * for tests that need several replicas or a crash. Output is kept for
 * diagnosis; `kill()` never leaves the process behind.
 */
export class ServiceProcess {
  proc?: ChildProcess;
  output = '';
  port = 0;

  constructor(
    readonly service: 'ingest' | 'worker',
    private readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.port = await freePort();
    const portVar = this.service === 'ingest' ? 'PORT' : 'WORKER_PORT';
    this.proc = spawn(process.execPath, [...TS_NODE_ARGS, path.join(ROOT, `services/${this.service}/src/main.ts`)], {
      cwd: ROOT,
      env: { ...process.env, ...this.env, [portVar]: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    await waitFor(
      async () => {
        if (this.proc!.exitCode !== null)
          throw new Error(`${this.service} exited ${this.proc!.exitCode}: ${this.output}`);
        return (await fetch(`${this.url}/healthz`)).ok;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: `${this.service} process to listen` },
    );
    return this;
  }

  /** Sends `signal` and resolves with the exit code once the process is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return proc?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }
}
