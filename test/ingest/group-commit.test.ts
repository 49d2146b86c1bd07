import pg from 'pg';
import { createLogger } from '@leadrouter/config';
import { AppError, validateLead, type NormalisedLead } from '@leadrouter/core';
import { closeDb, createDb, sqlPool, type Db } from '@leadrouter/db';
import { createRedis, Queues } from '@leadrouter/queue';
import { LeadRecorder, lockKeys } from '@leadrouter/lifecycle';
import type { PostingSource } from '../../services/ingest/src/http/auth';
import { sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

/**
 * The ingest records leads in groups, one transaction each (ADR 0009). A group
 * whose connection fails (a timeout, PostgreSQL ending it) may have committed
 * all the same, on the server, after the ingest stopped waiting: its leads are
 * answered 503 (a source posts again, with its Idempotency-Key), never
 * recorded again one by one, which would store a second copy of a lead
 * answered 202.
 */
describe('a group of leads whose connection fails', () => {
  const stack = new TestStack({ worker: false });
  let db: Db;
  let admin: pg.Client;
  let queues: Queues;
  let redis: ReturnType<typeof createRedis>;

  beforeAll(async () => {
    await stack.start();
    db = createDb({ databaseUrl: stack.database.url, queryTimeoutMs: 500 });
    admin = new pg.Client({ connectionString: stack.database.url });
    await admin.connect();
    redis = createRedis({ url: stack.env().REDIS_URL!, role: 'producer' });
    redis.on('error', () => undefined);
    queues = new Queues(redis, stack.prefix);
  });
  afterAll(async () => {
    await admin?.end();
    await queues?.close();
    redis?.disconnect();
    if (db) await closeDb(db);
    await stack.stop();
  });

  const lead = (phone: string): NormalisedLead => {
    const v = validateLead(sampleLead({ phone, email: undefined }));
    if (!v.ok) throw new Error(JSON.stringify(v.errors));
    return v.lead;
  };

  it('answers each of its leads 503, and none of them is recorded twice', async () => {
    const { id } = await stack.createSource();
    const source: PostingSource = {
      id,
      name: 'group',
      active: true,
      rateLimitPerMinute: null,
      // A duplicate window: its leads take their phone's lock, which this test holds.
      duplicateWindowHours: 24,
    };
    const recorder = new LeadRecorder({
      db,
      queues,
      log: createLogger({ name: 'ingest', level: 'silent', pretty: false }),
    });

    // Four leads whose transactions wait for locks held here, so that every transaction slot is taken; then two
    // more, which go together as one group: `held` waits for its lock here too, and `free` sorts after it.
    const busy = ['+1 415 555 0161', '+1 415 555 0162', '+1 415 555 0163', '+1 415 555 0164'].map(lead);
    let [held, free] = [lead('+1 415 555 0165'), lead('+1 415 555 0166')];
    if (lockKeys(held)[0]! > lockKeys(free)[0]!) [held, free] = [free, held];
    await admin.query('BEGIN');
    await admin.query('SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k', [
      [...busy, held].flatMap(lockKeys).map(String),
    ]);

    const answers = [...busy, held, free].map((l) =>
      recorder.accept(source, l).then(
        (outcome) => ({ phone: l.phone, status: outcome.status }),
        (err: unknown) => ({ phone: l.phone, status: err instanceof AppError ? err.httpStatus : String(err) }),
      ),
    );
    const results = await Promise.all(answers);
    // The transactions the ingest gave up on still wait on the server; they commit once the locks are free.
    await admin.query('COMMIT');
    await waitFor(
      async () =>
        (
          await admin.query(
            `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
             AND state = 'active'`,
          )
        ).rowCount === 0,
      { what: 'the abandoned transactions to end' },
    );

    const { rows } = await sqlPool(stack.db).query<{ phone: string; n: number }>(
      'SELECT phone, count(*)::int AS n FROM leads WHERE source_id = $1 GROUP BY phone',
      [id],
    );
    // A lead answered 202 is stored once; one answered 503 may have been stored (once) after all.
    expect(rows.filter((r) => r.n > 1)).toEqual([]);
    expect(results).toEqual(results.map((r) => ({ phone: r.phone, status: 503 })));
  });
});
