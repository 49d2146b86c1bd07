import { closeDb, createDb, sqlPool } from '@leadrouter/db';
import { FakePartner } from '../support/partner';
import { describeWithPgBouncer, PgBouncer } from '../support/pgbouncer';
import { ServiceProcess } from '../support/process';
import { ADMIN_TOKEN, sampleLead, TestStack } from '../support/stack';
import { withAdminClient } from '../support/database';

const LEADS = 24;

/**
 * PostgreSQL may sit behind PgBouncer in transaction mode (docs/scaling.md, "PostgreSQL
 * connections"). A real ingest and a real worker reach the database only through a PgBouncer of the test's own
 * with two server connections, fewer than their pools' client connections, so consecutive transactions of one
 * client connection run on different server connections, as they do in production: nothing may rely on a
 * session's state (a prepared statement, a session SET or advisory lock).
 */
describeWithPgBouncer('the services behind PgBouncer in transaction mode', () => {
  const stack = new TestStack({ worker: false });
  const partner = new FakePartner();
  let bouncer: PgBouncer;
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    await stack.start();
    await partner.start();
    bouncer = await new PgBouncer([
      // As docs/scaling.md says to configure it: JIT off on every server connection (ADR 0041).
      { alias: 'leadrouter', dbname: stack.database.name, connectQuery: 'SET jit = off' },
      // Without connect_query, to show why it is needed.
      { alias: 'plain', dbname: stack.database.name },
    ]).start();
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    await bouncer?.stop();
    await partner.stop();
    await stack.stop();
  });

  it('take leads, deliver each once, record its events and money, and serve the admin API and feedback', async () => {
    const env = {
      ...stack.env(),
      LOG_LEVEL: 'warn',
      DATABASE_URL: bouncer.url('leadrouter'),
      DATABASE_PREPARED_STATEMENTS: 'false',
      DATABASE_POOL_SIZE: '6',
      WORKER_CONCURRENCY: '8',
    };
    const [ingest, worker] = [new ServiceProcess('ingest', env), new ServiceProcess('worker', env)];
    processes.push(ingest, worker);
    await Promise.all([ingest.start(), worker.start()]);
    const call = async (method: string, path: string, key: string, body?: unknown) => {
      const res = await fetch(`${ingest.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as any };
    };

    // The admin API (Prisma, over the same pool) through PgBouncer.
    const source = await call('POST', '/v1/admin/sources', ADMIN_TOKEN, { name: 'bounced source' });
    expect(source.status).toBe(201);
    const buyer = await call('POST', '/v1/admin/partners', ADMIN_TOKEN, {
      name: 'bounced partner',
      url: partner.url,
      price: '9.25',
    });
    expect(buyer.status).toBe(201);
    const route = await call('POST', '/v1/admin/routes', ADMIN_TOKEN, {
      name: 'bounced route',
      priority: 0,
      strategy: 'priority',
      partners: [{ partnerId: buyer.body.id }],
    });
    expect(route.status).toBe(201);
    expect((await call('GET', `/v1/admin/partners/${buyer.body.id}`, ADMIN_TOKEN, undefined)).body).toMatchObject({
      name: 'bounced partner',
    });

    // Leads posted at once: the ingest's transactions and the worker's interleave on two server connections.
    const posted = await Promise.all(
      Array.from({ length: LEADS }, (_, i) =>
        call(
          'POST',
          '/v1/leads',
          source.body.apiKey,
          sampleLead({ phone: `+1 415 555 ${String(i).padStart(4, '0')}` }),
        ),
      ),
    );
    expect(posted.map((r) => r.status)).toEqual(Array(LEADS).fill(202));
    const ids = posted.map((r) => r.body.id as string).sort();
    for (const id of ids) expect(await stack.finalStatus(id)).toBe('delivered');

    // Each lead delivered once, its events recorded, its sale written once.
    expect(partner.requests.map((r) => (r.json as { id: string }).id).sort()).toEqual(ids);
    const deliveries = await stack.db.delivery.groupBy({ by: ['leadId', 'status'], _count: true });
    expect(deliveries.map((d) => [d.leadId, d.status, d._count]).sort()).toEqual(ids.map((id) => [id, 'accepted', 1]));
    const events = await stack.db.leadEvent.findMany({ where: { leadId: { in: ids } }, orderBy: { id: 'asc' } });
    for (const id of ids)
      expect(events.filter((e) => e.leadId === id).map((e) => e.status)).toEqual(['queued', 'routing', 'delivered']);
    for (const id of ids.slice(0, 3)) {
      const view = await call('GET', `/v1/admin/leads/${id}`, ADMIN_TOKEN);
      expect(view.status).toBe(200);
      expect(
        view.body.money.entries.map((e: { party: string; kind: string; amount: number }) => [
          e.party,
          e.kind,
          e.amount,
        ]),
      ).toEqual([['partner', 'sale', 9.25]]);
    }

    // A partner's feedback (a conversion with its amount) through the ingest.
    const converted = await call('POST', '/v1/feedback', buyer.body.feedbackKey, {
      leadId: ids[0],
      event: 'converted',
      amount: '40',
      eventId: 'bounced-conversion',
    });
    expect(converted).toMatchObject({ status: 202, body: { status: 'recorded', outcome: 'converted' } });
    expect(await stack.leadStatus(ids[0]!)).toBe('converted');

    // The services' client connections outnumbered PgBouncer's server connections, so their transactions
    // really hopped between server connections.
    const pools = await bouncer.admin('SHOW POOLS');
    const pool = pools.find((p) => p.database === 'leadrouter')!;
    const servers = (await bouncer.admin('SHOW SERVERS')).filter((s) => s.database === 'leadrouter');
    const clients = (await bouncer.admin('SHOW CLIENTS')).filter((c) => c.database === 'leadrouter');
    expect(servers.length).toBeLessThanOrEqual(2);
    expect(clients.length).toBeGreaterThan(servers.length);
    expect(pool).toBeDefined();
    for (const p of [ingest, worker])
      expect({ service: p.service, exitCode: p.proc!.exitCode }).toEqual({ service: p.service, exitCode: null });
  });

  it("keeps JIT off on every server connection with connect_query; the pool's own SET jit = off is not enough", async () => {
    const showJit = async (url: string) => {
      const db = createDb({ databaseUrl: url, poolMax: 2 });
      try {
        const pool = sqlPool(db);
        // Two client connections, each opened (and given its SET jit = off) while the other was idle: PgBouncer
        // ran both SETs on the one server connection it had.
        const first = await pool.connect();
        const second = await pool.connect();
        try {
          // Two transactions at once need two server connections: the second one is new, and never saw a SET.
          await Promise.all([first.query('BEGIN'), second.query('BEGIN')]);
          const seen = await Promise.all(
            [first, second].map(async (c) => (await c.query<{ jit: string }>('SHOW jit')).rows[0]!.jit),
          );
          await Promise.all([first.query('COMMIT'), second.query('COMMIT')]);
          return seen.sort();
        } finally {
          first.release();
          second.release();
        }
      } finally {
        await closeDb(db);
      }
    };
    // The server's own setting, which a server connection has until something sets it (on by default).
    const serverDefault = await withAdminClient(async (c) => (await c.query<{ jit: string }>('SHOW jit')).rows[0]!.jit);
    expect(await showJit(bouncer.url('plain'))).toEqual(['off', serverDefault].sort());
    expect(await showJit(bouncer.url('leadrouter'))).toEqual(['off', 'off']);
  });
});
