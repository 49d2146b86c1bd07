// Once per jest run, after every worker has finished: drop the databases this
// run created (test files should drop their own; this catches the ones a
// failing or interrupted file left behind).
//
// The template (leadrouter_test_template_<digest>) is kept on purpose: another jest run
// on the same server may be copying it right now, and each run rebuilds it at
// start anyway.
import pg from 'pg';
import { RUN_ID_ENV, runDatabasePrefix, withAdminClient } from './support/database';

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
}
