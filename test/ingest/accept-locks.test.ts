import pg from 'pg';
import { validateLead } from '@leadrouter/core';
import { lockKeys } from '@leadrouter/lifecycle';
import { sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

/**
 * Which advisory locks accepting a lead takes (ADR 0009): its phone's and email's only when its source checks
 * duplicates. A burst of leads sharing a placeholder email from sources without a duplicate window must not
 * queue on one lock (issue 17). Shown with the email's lock held here: a backend waiting on it is seen in
 * `pg_stat_activity`, no timing involved.
 */
describe('accepting a lead, with its email’s advisory lock held elsewhere', () => {
  const stack = new TestStack({ worker: false });
  let holder: pg.Client;
  const placeholder = 'noemail@example.com';

  beforeAll(async () => {
    await stack.start();
    holder = new pg.Client({ connectionString: stack.database.url });
    await holder.connect();
  });
  afterAll(async () => {
    await holder?.end();
    await stack.stop();
  });

  const post = (apiKey: string, phone: string, email = placeholder, headers: Record<string, string> = {}) =>
    stack.request('POST', '/v1/leads', { key: apiKey, body: sampleLead({ phone, email }), headers });

  /** Backends of this database waiting for an advisory lock. */
  const waitingOnLocks = async () =>
    (
      await holder.query(
        `SELECT 1 FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`,
      )
    ).rowCount;

  async function holdEmailLock(email = placeholder): Promise<void> {
    const lead = validateLead(sampleLead({ phone: '+1 415 555 0100', email }));
    if (!lead.ok) throw new Error(JSON.stringify(lead.errors));
    // The email's key is the one of the two that the phone (different in each post) does not change.
    const [emailKey] = lockKeys({ phone: '+14155550100', email: lead.lead.email }).filter(
      (k) => !lockKeys({ phone: '+14155550100', email: null }).includes(k),
    );
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock($1::bigint)', [String(emailKey)]);
  }

  afterEach(async () => {
    await holder.query('ROLLBACK'); // (a warning only, when no transaction is open)
  });

  it('does not wait for it when the source has no duplicate window', async () => {
    const source = await stack.createSource({ duplicateWindowHours: 0 });
    await holdEmailLock();
    const answers = await Promise.all(
      ['+1 415 555 0111', '+1 415 555 0112', '+1 415 555 0113'].map((phone) => post(source.apiKey, phone)),
    );
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
    expect(await waitingOnLocks()).toBe(0);
  });

  it('waits for it when the source checks duplicates, and then finds the duplicate', async () => {
    const source = await stack.createSource({ duplicateWindowHours: 24 });
    // An address of its own: duplicates are looked for among every source's leads, the other tests' too.
    const email = 'checked@example.com';
    const first = await post(source.apiKey, '+1 415 555 0121', email);
    expect(first.status).toBe(202);
    await holdEmailLock(email);
    const second = post(source.apiKey, '+1 415 555 0122', email);
    await waitFor(async () => (await waitingOnLocks()) === 1, { what: 'the second post waiting on the email’s lock' });
    await holder.query('ROLLBACK');
    const answer = await second;
    expect(answer.status).toBe(409);
    expect(answer.body).toMatchObject({ status: 'duplicate', id: first.body.id });
  });

  it('still replays one Idempotency-Key once, posted ten times at once without a duplicate window', async () => {
    const source = await stack.createSource({ duplicateWindowHours: 0 });
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        post(source.apiKey, '+1 415 555 0131', placeholder, { 'idempotency-key': 'burst-1' }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(202));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(await stack.db.lead.count({ where: { sourceId: source.id } })).toBe(1);
  });
});
