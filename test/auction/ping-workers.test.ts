import { FakePartner } from '../support/partner';
import { ServiceProcess } from '../support/process';
import { sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

// Sources' pings auctioned by three real worker processes at once (ADR 0032): every ping answered once, with
// the best bid, whichever worker ran it; the posts against them sold to the best bid.

const PINGS = 30;

describe('three worker processes answering pings', () => {
  const stack = new TestStack({ worker: false });
  const workers: ServiceProcess[] = [];
  const buyers: FakePartner[] = [];
  let source: { id: string; apiKey: string };

  beforeAll(async () => {
    await stack.start();
    source = await stack.createSource({ payout: { model: 'cpl', amount: '4.25' } });
    // Three buyers bidding 11, 12 and 13, each taking 100 ms to answer: pings overlap across the workers.
    const ids: string[] = [];
    for (let i = 1; i <= 3; i++) {
      const buyer = await new FakePartner((req) =>
        req.path.endsWith('/ping')
          ? {
              status: 200,
              body: {
                bid: 10 + i,
                ref: `B${i}-${String((req.json as { pingId?: string } | undefined)?.pingId ?? '')}`,
              },
              delayMs: 100,
            }
          : { status: 200 },
      ).start();
      buyers.push(buyer);
      const partner = await stack.createPartner({
        url: buyer.url,
        ping: {
          url: `${buyer.url}/ping`,
          fieldMap: { pingId: 'id', zip: 'fields.zip' },
          referencePath: 'ref',
          timeoutMs: 5000,
        },
      });
      ids.push(partner.id);
    }
    await stack.createRoute({
      name: 'workers-auction',
      priority: 10,
      strategy: 'auction',
      // Long: a worker process's first jobs load its code (tsx, a busy machine); the deadline is not under test here.
      auction: { timeoutMs: 10_000 },
      partners: ids.map((partnerId) => ({ partnerId })),
    });
    // Two pings at a time each: thirty pings have to be shared among the three.
    for (let i = 0; i < 3; i++)
      workers.push(new ServiceProcess('worker', { ...stack.env(), PING_CONCURRENCY: '2', LOG_LEVEL: 'info' }));
    await Promise.all(workers.map((w) => w.start()));
  }, 90_000);
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    for (const b of buyers) await b.stop();
    await stack.stop();
  });

  /** `leadrouter_pings_total` of one worker process: its buyers' answers to the pings it ran. */
  const pingsRun = async (w: ServiceProcess) => {
    const text = await (await fetch(`${w.url}/metrics`)).text();
    return [...text.matchAll(/^leadrouter_pings_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
  };

  it('answers every ping once with the best bid, the auctions shared among the workers', async () => {
    const answers = await Promise.all(
      Array.from({ length: PINGS }, (_, i) =>
        stack.request('POST', '/v1/pings', {
          key: source.apiKey,
          body: { geo: 'US', fields: { zip: String(10000 + i) } },
        }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(PINGS).fill(200));
    // The source's cpl amount on each best bid: what it will be paid, never the buyer's 13.
    expect(answers.map((a) => [a.body.status, a.body.bid])).toEqual(Array(PINGS).fill(['bid', 4.25]));
    expect(new Set(answers.map((a) => a.body.pingId)).size).toBe(PINGS);
    // Each worker ran some of the auctions, and each ping was run once (three buyers' answers each).
    const perWorker = await Promise.all(workers.map(pingsRun));
    for (const n of perWorker) expect(n).toBeGreaterThan(0);
    expect(perWorker.reduce((a, b) => a + b, 0)).toBe(PINGS * 3);
    const recorded = await waitFor(
      async () => {
        const [row] = await stack.db.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM ping_bids`;
        return Number(row!.n) === PINGS * 3 ? row : undefined;
      },
      { what: 'every buyer’s answer recorded once' },
    );
    expect(recorded).toBeDefined();

    // Posts against three of them, sold to the best bid (13) with its reference for that ping.
    const posted = await Promise.all(
      answers.slice(0, 3).map((a, i) =>
        stack.request('POST', '/v1/leads', {
          key: source.apiKey,
          body: sampleLead({ phone: `+1 415 555 02${i}0`, email: `w${i}@example.com`, pingId: a.body.pingId }),
          headers: { prefer: 'wait=20' },
        }),
      ),
    );
    expect(posted.map((p) => p.body.status)).toEqual(['delivered', 'delivered', 'delivered']);
    const winnerPosts = buyers[2]!.requests.filter((r) => !r.path.endsWith('/ping'));
    expect(winnerPosts.map((r) => r.headers['x-ping-reference']).sort()).toEqual(
      answers
        .slice(0, 3)
        .map((a) => `B3-${a.body.pingId as string}`)
        .sort(),
    );

    // The stats: each buyer's pings, bids, best bids and average bid; the source's pings, bids and posts.
    const stats = (await stack.admin('GET', '/stats')).body;
    const byName = Object.fromEntries(
      (stats.partners as { name: string; pings: unknown }[]).map((p) => [p.name, p.pings]),
    );
    const names = await stack.db.partner.findMany({ orderBy: { createdAt: 'asc' }, select: { name: true } });
    expect(names.map((n) => byName[n.name])).toEqual([
      { pings: PINGS, bids: PINGS, wins: 0, winRate: 0, averageBid: '11.0000' },
      { pings: PINGS, bids: PINGS, wins: 0, winRate: 0, averageBid: '12.0000' },
      { pings: PINGS, bids: PINGS, wins: PINGS, winRate: 1, averageBid: '13.0000' },
    ]);
    const own = (stats.sources as { sourceId: string; pings: unknown }[]).find((s) => s.sourceId === source.id);
    expect(own?.pings).toEqual({ pings: PINGS, bids: PINGS, posted: 3, winRate: 0.1, averageBid: '4.2500' });

    // The reports say the same (ADR 0028): each buyer's group its auctions, the no-partner group the source's
    // pings and the leads posted against them — each ping counted once though three workers wrote them in bulk.
    const day = new Date().toISOString().slice(0, 10);
    const next = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    type Item = Record<string, unknown> & { partner?: { name: string } | null };
    const auctions = ({ pings, bids, wins, posted, winRate, averageBid }: Item) =>
      posted === undefined ? { pings, bids, wins, winRate, averageBid } : { pings, bids, posted, winRate, averageBid };
    const byPartner = (await stack.admin('GET', `/reports?groupBy=partner&since=${day}&until=${next}`)).body
      .items as Item[];
    expect(byPartner[0]?.partner).toBeNull();
    expect(auctions(byPartner[0]!)).toEqual({ pings: PINGS, bids: PINGS, wins: 3, winRate: 0.1, averageBid: '4.2500' });
    expect(Object.fromEntries(byPartner.slice(1).map((i) => [i.partner?.name, auctions(i)]))).toEqual(byName);
    // By geo (the ping's), not grouped by partner: the source's pings, not its buyers' answers.
    const byGeo = (await stack.admin('GET', `/reports?groupBy=geo&since=${day}&until=${next}`)).body.items as Item[];
    expect(byGeo.map((i) => [i.geo, auctions(i)])).toEqual([
      ['US', { pings: PINGS, bids: PINGS, wins: 3, winRate: 0.1, averageBid: '4.2500' }],
    ]);
    // The source's own report: its pings, bids, posts and its payout on the best bids, nothing of a buyer.
    const ownReport = await stack.request('GET', `/v1/reports?groupBy=day&since=${day}&until=${next}`, {
      key: source.apiKey,
    });
    expect(ownReport.status).toBe(200);
    expect((ownReport.body.items as Item[]).map(auctions)).toEqual([
      { pings: PINGS, bids: PINGS, posted: 3, winRate: 0.1, averageBid: '4.2500' },
    ]);
    for (const secret of ['13.0000', ...names.map((n) => n.name)])
      expect(JSON.stringify(ownReport.body)).not.toContain(secret);
  });
});
