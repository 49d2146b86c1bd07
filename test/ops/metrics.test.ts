import { execFileSync, spawnSync } from 'node:child_process';
import { FakePartner } from '../support/partner';
import { ServiceProcess } from '../support/process';
import { OwnRedis } from '../support/redis-server';
import { sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

const promtool = spawnSync('promtool', ['--version']).status === 0;

/** Metrics and readiness of real ingest and worker processes. */
describe('metrics and readiness', () => {
  const redis = new OwnRedis();
  const stack = new TestStack({ worker: false });
  let ingest: ServiceProcess;
  let worker: ServiceProcess;
  let partner: FakePartner;

  beforeAll(async () => {
    await redis.start();
    await stack.start();
    const env = { ...stack.env(), REDIS_URL: redis.url, METRICS_TOKEN: 'metrics-token-0123456789abcdefgh' };
    ingest = new ServiceProcess('ingest', env);
    worker = new ServiceProcess('worker', env);
    await Promise.all([ingest.start(), worker.start()]);
    partner = await new FakePartner().start();
    const p = await stack.createPartner({ url: partner.url, name: 'metrics-partner', caps: { daily: 10 } });
    await stack.createRoute({ partners: [{ partnerId: p.id }] });
  }, 60_000);
  afterAll(async () => {
    await Promise.all([ingest.stop('SIGKILL'), worker.stop('SIGKILL')]);
    await partner.stop();
    await stack.stop();
    await redis.destroy();
  }, 60_000);

  const scrape = async (url: string) => {
    const res = await fetch(`${url}/metrics`, {
      headers: { authorization: 'Bearer metrics-token-0123456789abcdefgh' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    return res.text();
  };
  /** The value of one sample, e.g. `name{a="b"}`; undefined when absent. */
  const sample = (text: string, series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(series + ' '));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  it('need the token when METRICS_TOKEN is set', async () => {
    for (const p of [ingest, worker]) {
      const res = await fetch(`${p.url}/metrics`);
      expect(res.status).toBe(401);
    }
  });

  it('move after a lead, on both processes, and pass promtool', async () => {
    const source = await stack.createSource({ name: 'metrics-source' });
    const before = await scrape(worker.url);
    const res = await fetch(`${ingest.url}/v1/leads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${source.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(sampleLead()),
    });
    expect(res.status).toBe(202);
    await fetch(`${ingest.url}/v1/leads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${source.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x' }),
    });
    const { id } = (await res.json()) as { id: string };
    await waitFor(async () => (await stack.leadStatus(id)) === 'delivered', { what: 'delivery' });

    const ingestText = await scrape(ingest.url);
    expect(sample(ingestText, 'leadrouter_leads_received_total{source="metrics-source",answer="accepted"}')).toBe(1);
    expect(sample(ingestText, 'leadrouter_leads_received_total{source="metrics-source",answer="rejected"}')).toBe(1);
    expect(ingestText).toMatch(
      /leadrouter_ingest_http_request_duration_seconds_count\{method="POST",route="\/v1\/leads",status="2xx"\} 1/,
    );
    expect(ingestText).toContain('leadrouter_ingest_process_resident_memory_bytes');

    const workerText = await waitFor(async () => {
      const t = await scrape(worker.url);
      return sample(t, 'leadrouter_delivery_attempts_total{partner="metrics-partner",outcome="accepted"}') === 1
        ? t
        : undefined;
    });
    expect(
      sample(before, 'leadrouter_delivery_attempts_total{partner="metrics-partner",outcome="accepted"}'),
    ).toBeUndefined();
    expect(workerText).toContain('leadrouter_delivery_duration_seconds_bucket{le="0.01",partner="metrics-partner"}');
    expect(sample(workerText, 'leadrouter_leads_routed_total{outcome="matched"}')).toBe(1);
    expect(sample(workerText, 'leadrouter_queue_jobs{queue="deliver",state="waiting"}')).toBe(0);
    expect(sample(workerText, 'leadrouter_dead_letters')).toBe(0);
    expect(sample(workerText, 'leadrouter_partners_paused')).toBe(0);
    expect(
      sample(workerText, 'leadrouter_partner_cap_usage_ratio{partner="metrics-partner",period="day"}'),
    ).toBeCloseTo(0.1);
    expect(workerText).toContain('leadrouter_sweeper_runs_total');

    if (!promtool) {
      console.warn('promtool is not installed (Debian package prometheus): skipping its check of the metrics format');
      return;
    }
    for (const text of [ingestText, workerText]) {
      // promtool exits non-zero on format errors and prints lint problems (naming conventions) to stdout.
      const out = execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(out.trim()).toBe('');
    }
  });

  it('report not ready while Redis is down, and ready again by themselves', async () => {
    const ready = async (p: ServiceProcess) => (await fetch(`${p.url}/readyz`)).status;
    expect(await ready(ingest)).toBe(200);
    expect(await ready(worker)).toBe(200);
    await redis.stop();
    await waitFor(async () => (await ready(ingest)) === 503 && (await ready(worker)) === 503, {
      what: 'both not ready',
    });
    const body = (await (await fetch(`${worker.url}/readyz`)).json()) as {
      checks: { redis: boolean; postgres: boolean };
    };
    expect(body.checks).toEqual({ redis: false, postgres: true });
    await redis.start();
    await waitFor(async () => (await ready(ingest)) === 200 && (await ready(worker)) === 200, {
      timeoutMs: 20_000,
      what: 'both ready again',
    });
  });
});
