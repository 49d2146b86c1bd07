// A PgBouncer of a test's own, in transaction mode, on a free loopback port in front of the test's database
// (Debian's pgbouncer package; PGBOUNCER_PATH to use another). docs/scaling.md, "PostgreSQL connections".
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './process';
import { describeWhen } from './requirements';
import { waitFor } from './wait';

export const PGBOUNCER = process.env.PGBOUNCER_PATH ?? '/usr/sbin/pgbouncer';

/** `describe` when PgBouncer is installed (`describeWhen`: fails under CI=true without it, else skipped). */
export function describeWithPgBouncer(name: string, fn: () => void): void {
  const reason = `PgBouncer is not at ${PGBOUNCER}: install Debian's package (apt-get install -y pgbouncer) or set PGBOUNCER_PATH`;
  describeWhen(existsSync(PGBOUNCER), reason, name, fn);
}

export interface PgBouncerDatabase {
  /** The name clients connect to. */
  alias: string;
  /** The database on the server (127.0.0.1:5432, user postgres). */
  dbname: string;
  /** PgBouncer's `connect_query`, run on each server connection it opens. */
  connectQuery?: string;
}

export class PgBouncer {
  port = 0;
  output = '';
  private proc?: ChildProcess;
  private dir = '';

  constructor(
    private readonly databases: PgBouncerDatabase[],
    /** Server connections per database and user: fewer than the clients', so transactions share them. */
    private readonly poolSize = 2,
  ) {}

  url(alias: string): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/${alias}`;
  }

  async start(): Promise<this> {
    this.port = await freePort();
    this.dir = mkdtempSync(path.join(tmpdir(), 'pgbouncer-'));
    // PgBouncer refuses to run as root; as root it is told to become postgres (-u), who must read these files.
    chmodSync(this.dir, 0o755);
    const lines = ['[databases]'];
    for (const d of this.databases) {
      const query = d.connectQuery ? ` connect_query='${d.connectQuery}'` : '';
      lines.push(`${d.alias} = host=127.0.0.1 port=5432 dbname=${d.dbname} user=postgres${query}`);
    }
    lines.push(
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${this.port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${path.join(this.dir, 'users.txt')}`,
      'admin_users = postgres',
      'pool_mode = transaction',
      `default_pool_size = ${this.poolSize}`,
      'max_client_conn = 200',
      // Logged to stderr (kept in `output`): connections, and any startup parameter it refused.
      'log_connections = 0',
      'log_disconnections = 0',
    );
    writeFileSync(path.join(this.dir, 'users.txt'), '"postgres" ""\n', { mode: 0o644 });
    const ini = path.join(this.dir, 'pgbouncer.ini');
    writeFileSync(ini, lines.join('\n') + '\n', { mode: 0o644 });
    const asRoot = process.getuid?.() === 0 ? ['-u', 'postgres'] : [];
    this.proc = spawn(PGBOUNCER, [...asRoot, ini], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    await waitFor(
      async () => {
        if (this.proc!.exitCode !== null) throw new Error(`pgbouncer exited ${this.proc!.exitCode}: ${this.output}`);
        return (await this.admin('SHOW VERSION')).length > 0;
      },
      { timeoutMs: 10_000, intervalMs: 50, what: 'pgbouncer to listen' },
    );
    return this;
  }

  /** A command of PgBouncer's admin console (simple protocol only): its rows. */
  async admin(command: string): Promise<Record<string, unknown>[]> {
    const client = new pg.Client({ connectionString: this.url('pgbouncer'), connectionTimeoutMillis: 2000 });
    await client.connect();
    try {
      return (await client.query(command)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGINT');
      await exited;
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}
