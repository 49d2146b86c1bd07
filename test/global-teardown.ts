// Once per jest run, after every worker has finished: drop the databases this
// run created (test files should drop their own; this catches the ones a
// failing or interrupted file left behind), and check that no Redis key of
// this run's prefixes is left.
//
// The template (leadrouter_test_template_<digest>) is kept on purpose: another jest run
// on the same server may be copying it right now, and each run rebuilds it at
// start anyway.
import pg from 'pg';
import { RUN_ID_ENV, runDatabasePrefix, withAdminClient } from './support/database';
import { deleteKeys, runKeyPrefix, SHARED_REDIS_URL } from './support/redis-keys';

export default async function globalTeardown(): Promise<void> {
  if (!process.env[RUN_ID_ENV]) return; // global-setup failed before naming the run
  const prefix = runDatabasePrefix();
  await withAdminClient(async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE starts_with(datname, $1)',
      [prefix],
    );
    for (const { datname } of rows) {
      await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(datname)} WITH (FORCE)`);
    }
  });

  // Every test removes the keys of its queue prefix (test-<run>-<file>-<random>, test/support/redis-keys.ts)
  // when it is done: keys of this run still here were left by a test, which is a failure. They are deleted
  // all the same, so the shared Redis does not fill up.
  const left = await deleteKeys(SHARED_REDIS_URL, `${runKeyPrefix()}*`);
  if (left.length > 0) {
    const byPrefix = new Map<string, number>();
    for (const key of left) {
      const colon = key.indexOf(':');
      const owner = colon < 0 ? key : key.slice(0, colon);
      byPrefix.set(owner, (byPrefix.get(owner) ?? 0) + 1);
    }
    const list = [...byPrefix].map(([owner, n]) => `${owner} (${n})`).join(', ');
    throw new Error(
      `${left.length} Redis keys of this run were left behind (now deleted), by prefix: ${list}. ` +
        'The test file named in the prefix must remove its keys when it is done (TestStack.stop() does).',
    );
  }
}
