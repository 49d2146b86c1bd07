// Once per jest run, before any worker starts: make sure PostgreSQL and Redis
// are up (starting the machine's own services when they are down, as .ci/run
// does), then build the template database that test/support/database.ts copies
// for each test file. Jest does not apply moduleNameMapper here: imports carry
// no extension.
import { execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';
import { applyMigrations } from '../packages/db/src/migrate';
import { RUN_ID_ENV, TEMPLATE_DATABASE, serverUrl, withAdminClient } from './support/database';

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export default async function globalSetup(): Promise<void> {
  const postgres = new URL(serverUrl('postgres'));
  await ensureService({
    name: 'PostgreSQL',
    host: postgres.hostname,
    port: Number(postgres.port || 5432),
    start: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
  });
  const redis = new URL(process.env.REDIS_URL || 'redis://127.0.0.1:6379');
  await ensureService({
    name: 'Redis',
    host: redis.hostname,
    port: Number(redis.port || 6379),
    start:
      'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no ' +
      '--dir /var/lib/redis --logfile /var/log/redis/ci.log',
  });

  // Workers are forked after this returns and inherit the environment.
  process.env[RUN_ID_ENV] = randomBytes(4).toString('hex');
  await buildTemplate(process.env[RUN_ID_ENV]);
}

/**
 * Builds the migrated schema under a name of this run's own, then swaps it in
 * as the template: another jest run on the same server (another checkout, CI)
 * never sees a half-migrated template, only a moment without one, which
 * createTestDatabase waits out.
 */
async function buildTemplate(runId: string): Promise<void> {
  const building = `${TEMPLATE_DATABASE}_build_${runId}`;
  await withAdminClient((client) =>
    client.query(`CREATE DATABASE ${pg.escapeIdentifier(building)} TEMPLATE template0`),
  );
  try {
    await applyMigrations({ databaseUrl: serverUrl(building) });
    await withAdminClient(async (client) => {
      await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(TEMPLATE_DATABASE)} WITH (FORCE)`);
      const rename = `ALTER DATABASE ${pg.escapeIdentifier(building)} RENAME TO ${pg.escapeIdentifier(TEMPLATE_DATABASE)}`;
      for (let attempt = 1; ; attempt++) {
        try {
          await client.query(rename);
          return;
        } catch (error) {
          const code = (error as { code?: string }).code;
          if (code === '42P04') return; // a concurrent run swapped in its own, identical template
          // 55006: our own migration connection is still closing on the server side.
          if (code !== '55006' || attempt >= 50) throw error;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    });
  } finally {
    await withAdminClient((client) =>
      client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(building)} WITH (FORCE)`),
    );
  }
}

interface Service {
  name: string;
  host: string;
  port: number;
  /** Shell command that starts the machine's own instance. */
  start: string;
}

async function ensureService(service: Service): Promise<void> {
  const where = `${service.host}:${service.port}`;
  if (await reachable(service.host, service.port)) return;
  if (!LOCAL_HOSTS.has(service.host)) {
    throw new Error(`${service.name} is not reachable at ${where}; start it before running the tests.`);
  }
  let startError = '';
  try {
    execSync(service.start, { stdio: ['ignore', 'ignore', 'pipe'], shell: '/bin/sh', timeout: 30_000 });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    startError = ` (\`${service.start.split(' ')[0]}\` failed: ${stderr || (error as Error).message})`;
  }
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (await reachable(service.host, service.port)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(
    `${service.name} is not reachable at ${where} and could not be started${startError}. ` +
      `Start it yourself (see /work/shared/STACK.md "Services") and run the tests again.`,
  );
}

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: host.replace(/^\[|\]$/g, ''), port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
