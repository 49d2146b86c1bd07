import http from 'node:http';
import { FakePartner } from '../support/partner';
import { ServiceProcess } from '../support/process';
import { OwnRedis } from '../support/redis-server';
import { sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

/** docs/scaling.md "Shutting down", ADR 0017: SIGTERM — stop taking work, finish in-flight jobs and requests, exit 0 within 30 s. */

/** Resolves with the exit code (null when killed by a signal) once the process is gone. */
function exited(service: ServiceProcess): Promise<number | null> {
  const proc = service.proc!;
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
}

describe('SIGTERM', () => {
  const stack = new TestStack({ worker: false });
  const processes: ServiceProcess[] = [];
  let source: { id: string; apiKey: string };

  beforeAll(async () => {
    await stack.start();
    source = await stack.createSource();
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    await stack.stop();
  });

  function start(service: 'ingest' | 'worker', env: Record<string, string> = {}): Promise<ServiceProcess> {
    const p = new ServiceProcess(service, { ...stack.env(), LOG_LEVEL: 'info', ...env });
    processes.push(p);
    return p.start();
  }

  async function postLead(phone: string): Promise<string> {
    const res = await stack.request('POST', '/v1/leads', { key: source.apiKey, body: sampleLead({ phone }) });
    expect(res.status).toBe(202);
    return res.body.id;
  }

  it('lets a worker finish its in-flight delivery, take no new job, and exit 0', async () => {
    const partner = await new FakePartner(() => ({ status: 200, body: { accepted: true }, delayMs: 1_500 })).start();
    try {
      const p = await stack.createPartner({ url: partner.url });
      await stack.createRoute({ partners: [{ partnerId: p.id }] });
      // One job at a time: the route job making the first lead's first attempt holds the only slot,
      // and the second lead's route job waits in the queue behind it.
      const worker = await start('worker', { WORKER_CONCURRENCY: '1' });

      const leads = [await postLead('+1 415 555 0110'), await postLead('+1 415 555 0111')];
      await waitFor(() => partner.requests.length === 1, { what: 'the first delivery to reach the partner' });
      // Either lead may be routed first: the one in flight is the one the partner received.
      const inFlight = partner.requests[0]!.headers['x-lead-id'] as string;
      const waiting = leads.find((id) => id !== inFlight)!;
      expect(leads).toContain(inFlight);
      expect(await stack.leadStatus(waiting)).toBe('queued');

      const signalledAt = Date.now();
      const exit = exited(worker);
      worker.proc!.kill('SIGTERM');
      await waitFor(() => worker.output.includes('worker stopping'), { what: 'the worker to start stopping' });
      const afterSignal = await postLead('+1 415 555 0112');

      expect(await exit).toBe(0);
      expect(Date.now() - signalledAt).toBeLessThan(30_000);
      expect(worker.output).toContain('worker stopped');

      // The in-flight delivery finished: answered, recorded, the lead delivered.
      expect(await stack.leadStatus(inFlight)).toBe('delivered');
      const attempts = await stack.db.deliveryAttempt.findMany({ where: { delivery: { leadId: inFlight } } });
      expect(attempts).toEqual([expect.objectContaining({ attempt: 1, outcome: 'accepted', httpStatus: 200 })]);
      // Nothing new was taken: neither the lead waiting in the queue nor the one posted after the signal was routed.
      expect(partner.requests).toHaveLength(1);
      expect(await stack.db.delivery.count({ where: { leadId: { in: [waiting, afterSignal] } } })).toBe(0);
      expect(await stack.leadStatus(waiting)).toBe('queued');
      expect(await stack.leadStatus(afterSignal)).toBe('queued');

      // What it left is still on the queue, for the next worker.
      await start('worker');
      for (const id of [waiting, afterSignal])
        await waitFor(async () => (await stack.leadStatus(id)) === 'delivered', {
          what: `lead ${id} to be delivered by the next worker`,
        });
      expect(partner.requests).toHaveLength(3);
    } finally {
      await partner.stop();
    }
  }, 60_000);

  it.each([
    ['away', false],
    ['just back', true],
  ])(
    'lets a worker exit 0 at once while Redis is %s',
    async (_when, restart) => {
      // A Redis of the test's own, stopped under the worker: BullMQ's close() would wait for its blocking
      // connection, caught reconnecting, forever (taskforcesh/bullmq#4656).
      const redis = await new OwnRedis().start();
      try {
        const worker = await start('worker', { REDIS_URL: redis.url });
        await redis.stop();
        await waitFor(() => worker.output.includes('worker connection error'), {
          what: 'the worker to lose Redis',
        });
        if (restart) await redis.start();
        const signalledAt = Date.now();
        const exit = exited(worker);
        worker.proc!.kill('SIGTERM');
        expect(await exit).toBe(0);
        expect(Date.now() - signalledAt).toBeLessThan(10_000);
      } finally {
        await redis.destroy();
      }
    },
    60_000,
  );

  it('lets the ingest answer a request in flight, then close its connections, and exit 0', async () => {
    const ingest = await start('ingest');
    const body = Buffer.from(
      JSON.stringify({
        leads: Array.from({ length: 200 }, (_, i) =>
          sampleLead({ phone: `+1 415 555 ${String(2000 + i)}`, email: `batch${i}@example.com` }),
        ),
      }),
    );
    // A client that keeps its connection alive, as load balancers and busy affiliates do.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

    // A slow request: the server has read its head (it answered `100 Continue`) and the batch's first half
    // when the signal comes; the rest follows once the ingest is stopping.
    let headRead: () => void = () => undefined;
    const inFlight = new Promise<void>((resolve) => (headRead = resolve));
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${ingest.url}/v1/leads/batch`, {
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${source.apiKey}`,
          'content-type': 'application/json',
          'content-length': String(body.length),
          expect: '100-continue',
        },
      });
      req.on('continue', () => req.write(body.subarray(0, body.length >> 1), () => headRead()));
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      void waitFor(() => ingest.output.includes('ingest stopping'), { what: 'the ingest to start stopping' }).then(
        () => req.end(body.subarray(body.length >> 1)),
        reject,
      );
    });
    await inFlight;
    const signalledAt = Date.now();
    const exit = exited(ingest);
    ingest.proc!.kill('SIGTERM');

    await waitFor(() => ingest.output.includes('ingest stopping'), { what: 'the ingest to start stopping' });
    // No new connection is accepted.
    await expect(fetch(`${ingest.url}/healthz`)).rejects.toThrow();

    const res = await answer;
    expect(res.status).toBe(207);
    const results = (JSON.parse(res.body) as { results: { status: string; id: string }[] }).results;
    expect(results).toHaveLength(200);
    expect(results.every((r) => r.status === 'accepted')).toBe(true);
    expect(await stack.db.lead.count({ where: { id: { in: results.map((r) => r.id) } } })).toBe(200);

    // The client goes on sending on its kept-alive connection: the ingest closes it rather than serving it
    // until the shutdown deadline.
    const get = () =>
      new Promise<number>((resolve, reject) => {
        http
          .get(`${ingest.url}/healthz`, { agent }, (r) => {
            r.resume();
            r.on('end', () => resolve(r.statusCode ?? 0));
          })
          .on('error', reject);
      });
    let servedAfterAnswer = 0;
    while (Date.now() - signalledAt < 30_000) {
      const ok = await get().then(
        () => true,
        () => false,
      );
      if (!ok) break;
      servedAfterAnswer++;
      await new Promise((resolve) => setTimeout(resolve, 100)); // the client's own pace
    }
    agent.destroy();
    expect(servedAfterAnswer).toBeLessThanOrEqual(1);

    expect(await exit).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    expect(ingest.output).toContain('ingest stopped');
  }, 60_000);
});
