import http from 'node:http';
import { ServiceProcess } from '../support/process';
import { TestStack } from '../support/stack';

/** One GET /healthz on `agent`: its status, Keep-Alive header, and whether it went on a reused connection. */
function get(url: string, agent: http.Agent): Promise<{ status: number; keepAlive: string; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}/healthz`, { agent }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({ status: res.statusCode!, keepAlive: String(res.headers['keep-alive']), reused: req.reusedSocket }),
      );
    });
    req.on('error', reject);
  });
}

/**
 * ADR 0040: the ingest keeps idle connections longer than the clients and balancers in front of it, so it is
 * never the side that closes one just as a request is written on it (the soak's ECONNRESETs). With Node's
 * default (5 s) it closed them after 5–6 s.
 */
describe('kept-alive connections to the ingest', () => {
  const stack = new TestStack({ worker: false });
  let ingest: ServiceProcess;

  beforeAll(async () => {
    await stack.start();
    ingest = await new ServiceProcess('ingest', stack.env()).start();
  }, 60_000);
  afterAll(async () => {
    await ingest.stop('SIGKILL');
    await stack.stop();
  });

  it('are kept KEEP_ALIVE_TIMEOUT_SECONDS (65 s), and a connection idle 7 s is reused', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(ingest.url, agent);
      expect(first).toMatchObject({ status: 200, keepAlive: 'timeout=65' });
      await new Promise((resolve) => setTimeout(resolve, 7000));
      expect(await get(ingest.url, agent)).toMatchObject({ status: 200, reused: true });
    } finally {
      agent.destroy();
    }
  }, 30_000);
});
