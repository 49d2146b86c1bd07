// The Redis keys of the tests. Every queue prefix a test uses is
// `test-<run>-<file>-<random>`: a test removes its prefix's keys when it is
// done (TestStack.stop does), and what a run left behind anyway can be found
// by the run's part and named by the file that left it (test/global-teardown.ts
// deletes it and fails the run).
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { RUN_ID_ENV } from './database';

/** The shared Redis of the tests. */
export const SHARED_REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/** The part of every key prefix of this run (set by global-setup for the workers). */
export function runKeyPrefix(runId = process.env[RUN_ID_ENV] ?? 'norun'): string {
  return `test-${runId}-`;
}

/** A key prefix of its own for the calling test file: `test-<run>-<file>-<random>`. */
export function testKeyPrefix(): string {
  const testPath = typeof expect === 'function' ? expect.getState().testPath : undefined;
  const file = testPath ? path.basename(testPath).replace(/\.test\.[cm]?[tj]s$/, '') : 'file';
  return `${runKeyPrefix()}${file.replace(/[^A-Za-z0-9]+/g, '_').slice(0, 40)}-${randomBytes(4).toString('hex')}`;
}

/**
 * Deletes every key matching `pattern` (a SCAN pattern) on the Redis at
 * `redisUrl`; resolves with their names. A Redis that cannot be reached
 * (a test's own, already stopped) has nothing left to delete: none.
 */
export async function deleteKeys(redisUrl: string, pattern: string): Promise<string[]> {
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    try {
      await redis.connect();
    } catch {
      return [];
    }
    const deleted: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) {
        await redis.unlink(...keys);
        deleted.push(...keys);
      }
    } while (cursor !== '0');
    return deleted;
  } finally {
    redis.disconnect();
  }
}

/**
 * Deletes every key matching `pattern` on every master of the Redis Cluster
 * at `nodes` (`host:port,…`), one key at a time (keys of different slots
 * cannot share a command); resolves with their names.
 */
export async function deleteClusterKeys(nodes: string, pattern: string): Promise<string[]> {
  const cluster = new Cluster(
    nodes.split(',').map((node) => {
      const [host, port] = node.split(':');
      return { host: host!, port: Number(port) };
    }),
    {
      lazyConnect: true,
      clusterRetryStrategy: () => null,
      redisOptions: { connectTimeout: 2000, maxRetriesPerRequest: 1 },
    },
  );
  cluster.on('error', () => undefined);
  try {
    try {
      await cluster.connect();
    } catch {
      return [];
    }
    const deleted: string[] = [];
    for (const master of cluster.nodes('master')) {
      let cursor = '0';
      do {
        const [next, keys] = await master.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) await master.unlink(key).catch(() => 0);
        deleted.push(...keys);
      } while (cursor !== '0');
    }
    return deleted;
  } finally {
    cluster.disconnect();
  }
}
