import { createRedis, outcomesChannel, redisKeys } from '@leadrouter/queue';
import { FakePartner } from '../support/partner';
import { ServiceProcess } from '../support/process';
import { TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

// Each ingest gets its own pings' answers (ADR 0032): the worker replies on the channel the ping's job names, one
// per ingest process, with the answer in the message — not on the outcomes channel every ingest hears.

const PER_REPLICA = 4;

describe('ping answers on each ingest’s own channel', () => {
  const stack = new TestStack();
  const replicas: ServiceProcess[] = [];
  let buyer: FakePartner;
  let source: { id: string; apiKey: string };

  beforeAll(async () => {
    await stack.start();
    buyer = await new FakePartner((req) =>
      req.path.endsWith('/ping') ? { status: 200, body: { bid: 10 } } : { status: 200 },
    ).start();
    source = await stack.createSource({ payout: { model: 'revshare', percent: 50 } });
    const partner = await stack.createPartner({ url: buyer.url, ping: { url: `${buyer.url}/ping`, timeoutMs: 5000 } });
    await stack.createRoute({
      name: 'replies-auction',
      priority: 10,
      strategy: 'auction',
      // Long: the replicas' first pings load their code on a busy machine; the deadline is not under test here.
      auction: { timeoutMs: 5_000 },
      filters: { sourceIds: [source.id] },
      partners: [{ partnerId: partner.id }],
    });
    for (let i = 0; i < 2; i++) replicas.push(new ServiceProcess('ingest', stack.env()));
    await Promise.all(replicas.map((r) => r.start()));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop('SIGKILL')));
    await buyer?.stop();
    await stack.stop();
  });

  it('sends each ping’s answer to the ingest that asked, and to no other', async () => {
    const listener = createRedis({ url: stack.ingestConfig.REDIS_URL, role: 'worker' });
    const heard: { channel: string; message: string }[] = [];
    const outcomes: string[] = [];
    const asker = createRedis({ url: stack.ingestConfig.REDIS_URL, role: 'worker' });
    try {
      listener.on('pmessage', (_pattern: string, channel: string, message: string) => heard.push({ channel, message }));
      listener.on('message', (_channel: string, message: string) => outcomes.push(message));
      await listener.psubscribe(redisKeys(stack.prefix).pingReplies('*'));
      await listener.subscribe(outcomesChannel(stack.prefix));

      const pingAt = (url: string) =>
        fetch(`${url}/v1/pings`, {
          method: 'POST',
          headers: { authorization: `Bearer ${source.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ geo: 'US', fields: { zip: '94107' } }),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
      const answers = await Promise.all(
        replicas.map(async (r) => {
          const own: Record<string, unknown>[] = [];
          for (let i = 0; i < PER_REPLICA; i++) own.push((await pingAt(r.url)).body);
          return own;
        }),
      );
      for (const own of answers)
        expect(own).toEqual(
          Array(PER_REPLICA).fill({ status: 'bid', pingId: expect.any(String), bid: 5, expiresAt: expect.any(String) }),
        );

      const total = PER_REPLICA * replicas.length;
      await waitFor(() => heard.length >= total, { what: 'every ping’s reply heard' });
      const channelOf = new Map<string, string[]>();
      for (const { channel, message } of heard) {
        const reply = JSON.parse(message) as { pingId: string; status: string; sourceBid?: string };
        // The source's answer, nothing of a buyer.
        expect(Object.keys(reply).sort()).toEqual(['expiresAt', 'pingId', 'sourceBid', 'status']);
        expect(reply.status).toBe('bid');
        expect(Number(reply.sourceBid)).toBe(5);
        channelOf.set(reply.pingId, [...(channelOf.get(reply.pingId) ?? []), channel]);
      }
      // Each ping answered once, on one channel: the same for every ping of a replica, another for each replica.
      const channels = answers.map((own) => {
        const used = new Set(own.flatMap((a) => channelOf.get(a.pingId as string) ?? []));
        for (const a of own) expect(channelOf.get(a.pingId as string)).toHaveLength(1);
        expect(used.size).toBe(1);
        return [...used][0]!;
      });
      expect(new Set(channels).size).toBe(replicas.length);
      // Only that ingest listens on it; the outcomes channel carried none of the pings.
      for (const channel of channels) {
        const [, subscribers] = (await asker.pubsub('NUMSUB', channel)) as [string, number];
        expect(subscribers).toBe(1);
      }
      const pinged = new Set(answers.flat().map((a) => a.pingId as string));
      expect(outcomes.filter((id) => pinged.has(id))).toEqual([]);
    } finally {
      listener.disconnect();
      asker.disconnect();
    }
  }, 60_000);
});
