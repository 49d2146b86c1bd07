import type { LookupFunction } from 'node:net';
import { serve, type TestServer } from '../../../test/support/http-server.js';
import { createAgents, destroyAgents, guardLookup, type DeliveryAgents } from './agents';
import { classify } from './classify';
import { checkUrl } from './destination';
import { send, type OutgoingRequest } from './send';

/**
 * The destination policy at connect time, against a real partner on
 * loopback: what is refused never opens a connection; what is allowed is
 * delivered through the same agents.
 */
describe('createAgents: the destination policy at connect time', () => {
  let partner: TestServer;
  const made: DeliveryAgents[] = [];
  const agents = (opts: Parameters<typeof createAgents>[0]) => {
    const a = createAgents(opts);
    made.push(a);
    return a;
  };
  const request = (url: string): OutgoingRequest => ({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
    timeoutMs: 2000,
  });

  /** A resolver that knows only `names`, as DNS would answer for them; it counts its calls. */
  function fakeDns(names: Record<string, string>): LookupFunction & { calls: string[] } {
    const calls: string[] = [];
    const lookup = ((hostname, options, callback) => {
      calls.push(hostname);
      const address = names[hostname];
      if (!address) {
        const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
        return process.nextTick(() => callback(err, '', 0));
      }
      const family = address.includes(':') ? 6 : 4;
      process.nextTick(() => (options.all ? callback(null, [{ address, family }]) : callback(null, address, family)));
    }) as LookupFunction & { calls: string[] };
    lookup.calls = calls;
    return lookup;
  }

  beforeEach(async () => {
    partner = await serve((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  });
  afterEach(() => partner.close());
  afterAll(() => made.forEach(destroyAgents));

  it('refuses a loopback partner without allowPrivate (no connection at all), and delivers to it with', async () => {
    const refused = await send(request(partner.url), agents({ allowPrivate: false }));
    expect(refused).toMatchObject({ kind: 'error', code: 'ERR_DESTINATION_REFUSED' });
    expect(classify(refused)).toEqual({
      outcome: 'rejected',
      reason: 'destination 127.0.0.1 is a loopback address; set ALLOW_PRIVATE_DESTINATIONS=true to allow it',
    });
    expect(partner.connections).toBe(0);

    const delivered = await send(request(partner.url), agents({ allowPrivate: true }));
    expect(delivered).toMatchObject({ kind: 'response', status: 200 });
    expect(partner.requests).toBe(1);
  });

  it('fails closed: send() without agents applies the strict policy', async () => {
    expect(await send(request(partner.url))).toMatchObject({ kind: 'error', code: 'ERR_DESTINATION_REFUSED' });
    expect(partner.connections).toBe(0);
  });

  it('checks the address a host name resolves to when connecting, not the URL as saved (DNS rebinding)', async () => {
    const url = `http://partner.test:${partner.port}/leads`;
    // When the URL was saved, its host was a name: nothing to object to then.
    expect(checkUrl(url, { allowPrivate: false })).toEqual({ allowed: true, host: 'partner.test' });
    // By delivery time the name resolves to loopback.
    const dns = fakeDns({ 'partner.test': '127.0.0.1' });

    const refused = await send(request(url), agents({ allowPrivate: false, lookup: dns }));
    expect(refused).toMatchObject({
      kind: 'error',
      code: 'ERR_DESTINATION_REFUSED',
      message:
        'destination partner.test resolved to 127.0.0.1, a loopback address; set ALLOW_PRIVATE_DESTINATIONS=true to allow it',
    });
    expect(dns.calls).toEqual(['partner.test']);
    expect(partner.connections).toBe(0);

    // The same resolver really leads to the partner: allowed, the request arrives.
    const delivered = await send(request(url), agents({ allowPrivate: true, lookup: dns }));
    expect(delivered).toMatchObject({ kind: 'response', status: 200 });
    expect(partner.requests).toBe(1);
  });

  it('asks the resolver again for every new connection and judges each answer', async () => {
    const table: Record<string, string> = { 'partner.test': '127.0.0.1' };
    const dns = fakeDns(table);
    const a = agents({ allowPrivate: false, lookup: dns });
    const url = `http://partner.test:${partner.port}/leads`;
    expect(await send(request(url), a)).toMatchObject({ code: 'ERR_DESTINATION_REFUSED' });
    table['partner.test'] = '::ffff:127.0.0.1';
    expect(await send(request(url), a)).toMatchObject({
      code: 'ERR_DESTINATION_REFUSED',
      message: expect.stringContaining('resolved to ::ffff:7f00:1, an IPv4-mapped IPv6 address (for 127.0.0.1)'),
    });
    expect(dns.calls).toHaveLength(2);
    expect(partner.connections).toBe(0);
  });

  it.each([
    ['decimal', (port: number) => `http://2130706433:${port}/leads`],
    ['hex', (port: number) => `http://0x7f.1:${port}/leads`],
    ['octal', (port: number) => `http://0177.0.0.1:${port}/leads`],
    ['IPv4-mapped IPv6, dotted', (port: number) => `http://[::ffff:127.0.0.1]:${port}/leads`],
    ['IPv4-mapped IPv6, hex', (port: number) => `http://[::ffff:7f00:1]:${port}/leads`],
  ])('refuses the partner at its address in %s form, which does reach it when allowed', async (_form, url) => {
    expect(await send(request(url(partner.port)), agents({ allowPrivate: false }))).toMatchObject({
      code: 'ERR_DESTINATION_REFUSED',
    });
    expect(partner.connections).toBe(0);
    expect(await send(request(url(partner.port)), agents({ allowPrivate: true }))).toMatchObject({ status: 200 });
    expect(partner.requests).toBe(1);
  });

  it('keeps connections alive: consecutive requests to a partner share one socket', async () => {
    const a = agents({ allowPrivate: true });
    for (let i = 0; i < 3; i++) expect(await send(request(partner.url), a)).toMatchObject({ status: 200 });
    expect(partner.requests).toBe(3);
    expect(partner.connections).toBe(1);
  });

  it('lets a slow answer take longer than the idle-socket timeout (that one is for pooled sockets only)', async () => {
    const slow = await serve((_req, res) => {
      setTimeout(() => res.writeHead(200).end('late'), 300);
    });
    try {
      const a = agents({ allowPrivate: true, idleSocketMs: 100 });
      expect(await send({ ...request(slow.url), timeoutMs: 1500 }, a)).toMatchObject({ status: 200, body: 'late' });
    } finally {
      await slow.close();
    }
  });
});

describe('guardLookup', () => {
  const policy = { allowPrivate: false };
  const lookupWith =
    (answer: { address: string; family: number }[]): LookupFunction =>
    (_host, options, callback) =>
      options.all ? callback(null, answer) : callback(null, answer[0]!.address, answer[0]!.family);
  const run = (lookup: LookupFunction, host: string, all: boolean) =>
    new Promise<{ err: (Error & { code?: string }) | null; address: unknown }>((resolve) =>
      lookup(host, { all }, (err, address) => resolve({ err, address })),
    );

  it('refuses when any of several addresses is private (Happy Eyeballs would try them all)', async () => {
    const guarded = guardLookup(
      lookupWith([
        { address: '93.184.215.14', family: 4 },
        { address: '10.0.0.7', family: 4 },
      ]),
      policy,
    );
    const { err } = await run(guarded, 'mixed.test', true);
    expect(err).toMatchObject({ code: 'ERR_DESTINATION_REFUSED', message: expect.stringContaining('10.0.0.7') });
  });

  it('refuses a name that resolves to a cloud metadata address, even with allowPrivate', async () => {
    // Judged at the resolver, where no socket exists: a broken guard here cannot reach the real service.
    const guarded = guardLookup(lookupWith([{ address: '169.254.169.254', family: 4 }]), { allowPrivate: true });
    const { err } = await run(guarded, 'metadata.test', false);
    expect(err).toMatchObject({
      code: 'ERR_DESTINATION_REFUSED',
      message:
        'destination metadata.test resolved to 169.254.169.254, a cloud metadata address; cloud metadata services are never delivered to',
    });
  });

  it('passes public answers through unchanged', async () => {
    const answer = [
      { address: '93.184.215.14', family: 4 },
      { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 },
    ];
    expect(await run(guardLookup(lookupWith(answer), policy), 'public.test', true)).toEqual({
      err: null,
      address: answer,
    });
    expect(await run(guardLookup(lookupWith(answer), policy), 'public.test', false)).toEqual({
      err: null,
      address: '93.184.215.14',
    });
  });

  it('judges what the system resolver makes of numeric host forms a URL parser never saw', async () => {
    // getaddrinfo reads "2130706433" and "0x7f.1" as 127.0.0.1 (inet_aton forms), offline.
    for (const host of ['2130706433', '0x7f.1']) {
      const { err } = await run(guardLookup(undefined, policy), host, false);
      expect(err).toMatchObject({
        code: 'ERR_DESTINATION_REFUSED',
        message: `destination ${host} resolved to 127.0.0.1, a loopback address; set ALLOW_PRIVATE_DESTINATIONS=true to allow it`,
      });
    }
  });
});
