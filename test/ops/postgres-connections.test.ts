import { withAdminClient } from '../support/database';
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
    const post = async (phone: string) => {
      const res = await fetch(`${ingest.url}/v1/leads`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(sampleLead({ phone })),
      });
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
