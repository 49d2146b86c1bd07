import { FakePartner } from '../support/partner';
import { freePort, ServiceProcess } from '../support/process';
import { OwnRedis } from '../support/redis-server';
import { sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

/** Redis stopped and started under a running stack: a redis-server of the test's own. */
describe('when Redis goes away', () => {
  describe('leads accepted meanwhile', () => {
    const redis = new OwnRedis();
    let stack: TestStack;
    let partner: FakePartner;
    let partnerId: string;

    beforeAll(async () => {
      await redis.start();
      stack = await new TestStack({ redisUrl: redis.url }).start();
      partner = await new FakePartner().start();
      partnerId = (await stack.createPartner({ url: partner.url })).id;
      await stack.createRoute({ partners: [{ partnerId }] });
    });
    afterAll(async () => {
      await partner.stop();
      await stack.stop();
      await redis.destroy();
    }, 60_000);

    it('are recorded (202) and delivered once Redis is back', async () => {
      const source = await stack.createSource();
      await redis.stop();
      const res = await stack.request('POST', '/v1/leads', { key: source.apiKey, body: sampleLead() });
      expect(res.status).toBe(202);
      expect(await stack.leadStatus(res.body.id)).toBe('queued');
      expect((await stack.request('GET', '/readyz')).status).toBe(503);

      await redis.start();
      await waitFor(async () => (await stack.leadStatus(res.body.id)) === 'delivered', {
        timeoutMs: 30_000,
        what: 'delivery after Redis returned',
      });
      expect(partner.requests.map((r) => r.headers['x-lead-id'])).toEqual([res.body.id]);
    });

    it('are answered within seconds when Redis takes commands but answers none (frozen)', async () => {
      const source = await stack.createSource({ rateLimitPerMinute: 100 });
      redis.freeze();
      let res;
      try {
        const started = Date.now();
        res = await stack.request('POST', '/v1/leads', {
          key: source.apiKey,
          body: sampleLead({ phone: '+1 415 555 0720', email: 'frozen@example.com' }),
        });
        expect(res.status).toBe(202);
        expect(Date.now() - started).toBeLessThan(10_000);
      } finally {
        redis.thaw();
      }
      expect(await stack.finalStatus(res.body.id)).toBe('delivered');
    });

    it('are still rate limited, per process, while Redis is away', async () => {
      const source = await stack.createSource({ rateLimitPerMinute: 2 });
      await redis.stop();
      try {
        const statuses = [];
        for (let i = 0; i < 3; i++) {
          const lead = sampleLead({ phone: `+1 415 555 07${10 + i}`, email: `outage${i}@example.com` });
          statuses.push((await stack.request('POST', '/v1/leads', { key: source.apiKey, body: lead })).status);
        }
        expect(statuses).toEqual([202, 202, 429]);
      } finally {
        await redis.start();
      }
    });
  });

  describe('a running worker', () => {
    const redis = new OwnRedis();
    let stack: TestStack;
    let partner: FakePartner;

    beforeAll(async () => {
      await redis.start();
      // No sweeper help: after its first round it waits ten minutes, so what
      // gets delivered below went through the queue and the resumed worker.
      stack = await new TestStack({ redisUrl: redis.url, env: { SWEEP_INTERVAL_MS: '600000' } }).start();
      partner = await new FakePartner().start();
      const p = await stack.createPartner({ url: partner.url });
      await stack.createRoute({ partners: [{ partnerId: p.id }] });
    });
    afterAll(async () => {
      await partner.stop();
      await stack.stop();
      await redis.destroy();
    }, 60_000);

    it('resumes by itself after Redis restarts', async () => {
      const source = await stack.createSource();
      const before = await stack.request('POST', '/v1/leads', { key: source.apiKey, body: sampleLead() });
      await waitFor(async () => (await stack.leadStatus(before.body.id)) === 'delivered', { what: 'first delivery' });

      await redis.stop();
      await redis.start(); // empty: this Redis keeps nothing on disk
      await waitFor(async () => (await stack.request('GET', '/readyz')).status === 200, {
        what: 'readiness after restart',
      });

      const after = await stack.request('POST', '/v1/leads', {
        key: source.apiKey,
        body: sampleLead({ phone: '+1 415 555 0777', email: 'after@example.com' }),
      });
      expect(after.status).toBe(202);
      await waitFor(async () => (await stack.leadStatus(after.body.id)) === 'delivered', {
        timeoutMs: 20_000,
        what: 'delivery by the resumed worker',
      });
      expect(partner.requests.map((r) => r.headers['x-lead-id'])).toEqual([before.body.id, after.body.id]);
    });
  });

  describe('an ingest and a worker started while Redis is not there', () => {
    const redis = new OwnRedis();
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
      await redis.destroy();
    }, 60_000);

    it('answer lead posts at once, and the leads are delivered within 30 s of Redis coming up', async () => {
      const source = await stack.createSource();
      const limited = await stack.createSource({ rateLimitPerMinute: 100 });
      const p = await stack.createPartner({ url: partner.url });
      await stack.createRoute({ partners: [{ partnerId: p.id }] });
      redis.port = await freePort(); // nothing listens there yet
      const env = { ...stack.env(), REDIS_URL: redis.url, LOG_LEVEL: 'warn' };
      const [ingest, worker] = [new ServiceProcess('ingest', env), new ServiceProcess('worker', env)];
      processes.push(ingest, worker);
      await Promise.all([ingest.start(), worker.start()]);

      const post = async (key: string, phone: string) => {
        const res = await fetch(`${ingest.url}/v1/leads`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify(sampleLead({ phone, email: `${phone.replace(/\D/g, '')}@example.com` })),
          // A source gives up after a while and posts again: a duplicate. (The answer comes at once; the bound
          // leaves room for a busy machine.)
          signal: AbortSignal.timeout(10_000),
        });
        return { status: res.status, id: ((await res.json()) as { id: string }).id };
      };
      const first = await post(source.apiKey, '+1 415 555 0901');
      const second = await post(limited.apiKey, '+1 415 555 0902');
      expect([first.status, second.status]).toEqual([202, 202]);
      expect(await stack.leadStatus(first.id)).toBe('queued');
      expect((await fetch(`${ingest.url}/readyz`)).status).toBe(503);

      await redis.start();
      const up = Date.now();
      for (const { id } of [first, second]) {
        await waitFor(async () => (await stack.leadStatus(id)) === 'delivered', {
          timeoutMs: 30_000,
          intervalMs: 200,
          what: `lead ${id} delivered after Redis came up`,
        });
      }
      expect(Date.now() - up).toBeLessThan(30_000);
      // Once Redis answers, the ingest enqueues as usual.
      await waitFor(async () => (await fetch(`${ingest.url}/readyz`)).status === 200, { what: 'readiness' });
      const third = await post(source.apiKey, '+1 415 555 0903');
      expect(third.status).toBe(202);
      await stack.finalStatus(third.id);
      expect(partner.requests.map((r) => r.headers['x-lead-id']).sort()).toEqual(
        [first.id, second.id, third.id].sort(),
      );
      for (const s of [ingest, worker]) expect({ [s.service]: s.proc!.exitCode }).toEqual({ [s.service]: null });
    }, 120_000);
  });
});
