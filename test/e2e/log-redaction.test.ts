import { FakePartner } from '../support/partner';
import { sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

describe('logs', () => {
  const stack = new TestStack({ captureLogs: true });
  let partner: FakePartner;

  beforeAll(async () => {
    await stack.start();
    partner = FakePartner.sequence({ status: 500 }, { status: 200 });
    await partner.start();
    const p = await stack.createPartner({ url: partner.url, backoff: { delayMs: 10, maxDelayMs: 20 } });
    await stack.createRoute({ partners: [{ partnerId: p.id }] });
  });
  afterAll(async () => {
    await partner.stop();
    await stack.stop();
  });

  it('never contain a lead’s phone, email or name, nor an API key, through a whole delivery with a retry', async () => {
    const source = await stack.createSource();
    const lead = sampleLead({ name: 'Zebediah Quixote', phone: '+1 415 555 0163', email: 'zebediah.q@example.com' });
    const res = await stack.request('POST', '/v1/leads', { key: source.apiKey, body: lead });
    expect(res.status).toBe(202);
    // A rejected post too: its body is not logged either.
    await stack.request('POST', '/v1/leads', { key: source.apiKey, body: { ...lead, phone: 'bad' } });
    await waitFor(async () => (await stack.leadStatus(res.body.id)) === 'delivered', { what: 'delivery' });
    await stack.request('GET', `/v1/leads/${res.body.id}`, { key: source.apiKey });

    const all = stack.logLines.join('');
    expect(stack.logLines.length).toBeGreaterThan(5);
    expect(all).toContain(res.body.id); // the lines are about this lead...
    // Worker lines name their job too.
    const attempts = stack.logLines.filter((l) => l.includes('"msg":"delivery attempt"'));
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    // The first attempt is made by the route job, the retry by a deliver job.
    expect(attempts.map((line) => JSON.parse(line) as unknown)).toEqual(
      attempts.map((_, i) =>
        expect.objectContaining({
          leadId: res.body.id,
          jobId: expect.any(String),
          queue: i === 0 ? 'route' : 'deliver',
        }),
      ),
    );
    for (const secret of ['4155550163', '415 555 0163', 'zebediah', 'Zebediah', source.apiKey]) {
      expect(all).not.toContain(secret); // ...and never show who it is
    }
  });
});
