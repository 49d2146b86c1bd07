import pg from 'pg';
import { sqlPool } from '@leadrouter/db';
import { serverUrl, withAdminClient } from '../support/database';
import { waitFor } from '../support/wait';
import { FakePartner } from '../support/partner';
import { ServiceProcess } from '../support/process';
import { sampleLead, TestStack } from '../support/stack';

/**
 * PostgreSQL ending the services' idle connections (a restart, a failover,
 * an administrator, a proxy's idle timeout) must cost them nothing but new
 * connections: the ingest and the worker keep running and the next lead goes
 * through. The hot paths run no Prisma query, so nothing of Prisma's listens
 * on the pool: `createDb` does.
 */
describe('idle PostgreSQL connections terminated under the services', () => {
  const stack = new TestStack({ worker: false });
  const partner = new FakePartner();
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    await stack.start();
    await partner.start();
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    await partner.stop();
    await stack.stop();
  });

  it('leave the ingest and the worker running, and the next lead is delivered', async () => {
    const { apiKey } = await stack.createSource();
    const p = await stack.createPartner({ url: partner.url });
    await stack.createRoute({ partners: [{ partnerId: p.id }] });
    const env = { ...stack.env(), LOG_LEVEL: 'warn' };
    const [ingest, worker] = [new ServiceProcess('ingest', env), new ServiceProcess('worker', env)];
    processes.push(ingest, worker);
    await Promise.all([ingest.start(), worker.start()]);
    // As a source does: a 503 (the ingest's connection was ended under the request, before it could tell
    // whether the lead was stored) is posted again with the same Idempotency-Key, once.
    const post = async (phone: string) => {
      const send = () =>
        fetch(`${ingest.url}/v1/leads`, {
          method: 'POST',
          headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'idempotency-key': phone },
          body: JSON.stringify(sampleLead({ phone })),
        });
      let res = await send();
      if (res.status === 503) {
        expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
        res = await send();
      }
      expect(res.status).toBe(202);
      return ((await res.json()) as { id: string }).id;
    };

    // Both processes hold idle connections once a lead has gone through.
    expect(await stack.finalStatus(await post('+1 415 555 0180'))).toBe('delivered');
    const terminated = await withAdminClient(async (client) => {
      const { rows } = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM (
           SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE datname = $1 AND pid <> pg_backend_pid() AND state = 'idle') AS t`,
        [stack.database.name],
      );
      return rows[0]!.n;
    });
    expect(terminated).toBeGreaterThan(0);

    expect(await stack.finalStatus(await post('+1 415 555 0181'))).toBe('delivered');
    for (const p of [ingest, worker])
      expect({ service: p.service, exitCode: p.proc!.exitCode }).toEqual({ service: p.service, exitCode: null });
    expect(partner.requests).toHaveLength(2);
  });
});

/**
 * README "How a lead flows", ADR 0011: losing a PostgreSQL connection at any moment never ends a
 * process; the work in flight is retried. Here every connection of a real
 * ingest and a real worker is terminated again and again while leads pour in,
 * so some are taken in the middle of a transaction, between two of its
 * messages, or while a connection is checked out and waiting.
 */
describe('every PostgreSQL connection terminated, again and again, under load', () => {
  const stack = new TestStack({ worker: false });
  const partner = new FakePartner();
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    await stack.start();
    await partner.start();
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    await partner.stop();
    await stack.stop();
  });

  /** What a client got: the lead's id (202), a 503 with Retry-After, or anything else (a reset, another status). */
  type Answer = { kind: 'accepted'; id: string } | { kind: 'unavailable' } | { kind: 'other'; what: string };

  it('leaves both processes running, answers every post, and delivers every lead once', async () => {
    const { apiKey } = await stack.createSource();
    const p = await stack.createPartner({ url: partner.url });
    await stack.createRoute({ partners: [{ partnerId: p.id }] });
    const env = { ...stack.env(), LOG_LEVEL: 'warn' };
    const [ingest, worker] = [new ServiceProcess('ingest', env), new ServiceProcess('worker', env)];
    processes.push(ingest, worker);
    await Promise.all([ingest.start(), worker.start()]);
    const running = () =>
      [ingest, worker].map((s) => ({
        service: s.service,
        exitCode: s.proc!.exitCode,
        signal: s.proc!.signalCode,
        ...(s.proc!.exitCode !== null || s.proc!.signalCode !== null ? { output: s.output.slice(-3000) } : {}),
      }));
    const allRunning = [
      { service: 'ingest', exitCode: null, signal: null },
      { service: 'worker', exitCode: null, signal: null },
    ];

    // A source posting lead i (with an Idempotency-Key, so that it can post it again after a 503).
    const post = async (i: number): Promise<Answer> => {
      try {
        const res = await fetch(`${ingest.url}/v1/leads`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${apiKey}`,
            'content-type': 'application/json',
            'idempotency-key': `terminate-${i}`,
          },
          body: JSON.stringify(
            sampleLead({ phone: `+1 415 730 ${String(1000 + i)}`, email: `terminated${i}@example.com` }),
          ),
          // Not an answer: a request that hangs. (The ingest answers within a second or two; the bound is for
          // this process, which posts and counts on a machine that may be busy with other tests.)
          signal: AbortSignal.timeout(30_000),
        });
        const body = (await res.json()) as { id?: string };
        if (res.status === 202 && body.id) return { kind: 'accepted', id: body.id };
        if (res.status === 503 && res.headers.get('retry-after')) return { kind: 'unavailable' };
        return { kind: 'other', what: `${res.status} ${JSON.stringify(body)}` };
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        return { kind: 'other', what: `${String(err)} (${cause?.code ?? cause?.message ?? 'no cause'})` };
      }
    };

    // About 60 leads/s for 8 s, while every connection to the test database is terminated every 500 ms.
    const LEADS = 480;
    const INTERVAL_MS = 1000 / 60;
    const admin = new pg.Client({ connectionString: serverUrl('postgres') });
    await admin.connect();
    let terminated = 0;
    let posting = true;
    const terminator = (async () => {
      while (posting) {
        const { rows } = await admin.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM (
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = $1 AND pid <> pg_backend_pid()) AS t`,
          [stack.database.name],
        );
        terminated += rows[0]!.n;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    })();
    const answers: Promise<Answer>[] = [];
    const started = Date.now();
    try {
      for (let i = 0; i < LEADS; i++) {
        const due = started + i * INTERVAL_MS;
        if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
        answers.push(post(i));
      }
      await Promise.all(answers);
    } finally {
      posting = false;
      await terminator;
      await admin.end();
    }
    const results = await Promise.all(answers);

    expect(running()).toEqual(allRunning);
    expect(terminated).toBeGreaterThan(20);
    // Every client got an answer: its 202, or a 503 with Retry-After — never a reset, never a hang.
    expect(results.filter((r) => r.kind === 'other')).toEqual([]);
    expect(results.filter((r) => r.kind === 'accepted').length).toBeGreaterThan(0);

    // The sources post their 503'd leads again, with the same key: a lead that was recorded after all (its
    // connection ended after the commit) is answered with its first id, the others are recorded now.
    const ids = new Map<number, string>();
    for (const [i, r] of results.entries()) {
      let answer = r;
      for (let tries = 0; answer.kind === 'unavailable' && tries < 5; tries++) answer = await post(i);
      expect({ i, answer: answer.kind === 'accepted' ? 'accepted' : answer }).toEqual({ i, answer: 'accepted' });
      if (answer.kind === 'accepted') ids.set(i, answer.id);
    }
    const leadIds = [...ids.values()];
    expect(new Set(leadIds).size).toBe(LEADS);
    const pool = sqlPool(stack.db);
    expect((await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM leads')).rows[0]!.n).toBe(LEADS);

    // Every lead is delivered once: one accepted delivery on record, and the partner saw it with one
    // Idempotency-Key (a repeat after a lost connection is allowed by at-least-once, with the same key).
    await waitFor(
      async () => {
        const { rows } = await pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM leads WHERE id = ANY($1::uuid[]) AND status = 'delivered'`,
          [leadIds],
        );
        return rows[0]!.n === LEADS;
      },
      { timeoutMs: 120_000, intervalMs: 500, what: 'every lead to be delivered' },
    );
    const { rows: deliveries } = await pool.query<{ lead_id: string; status: string; n: number }>(
      `SELECT lead_id::text, status::text, count(*)::int AS n FROM deliveries GROUP BY lead_id, status`,
    );
    expect(deliveries.filter((d) => d.status !== 'accepted' || d.n !== 1)).toEqual([]);
    expect(deliveries).toHaveLength(LEADS);
    const keys = new Map<string, Set<string>>();
    for (const r of partner.requests) {
      const id = r.headers['x-lead-id'] as string;
      keys.set(id, (keys.get(id) ?? new Set()).add(r.headers['idempotency-key'] as string));
    }
    expect(leadIds.filter((id) => keys.get(id)?.size !== 1)).toEqual([]);
    expect(running()).toEqual(allRunning);
  }, 300_000);
});
