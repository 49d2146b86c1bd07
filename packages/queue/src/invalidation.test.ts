import { randomBytes } from 'node:crypto';
import { createRedis } from './connection.js';
import { LocalCache, SharedCaches } from './invalidation.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('LocalCache', () => {
  const counting = () => {
    let loads = 0;
    return { load: async () => ++loads, loads: () => loads };
  };

  it('loads once per key until cleared, sharing a load in progress', async () => {
    const cache = new LocalCache<string, number>(() => true, 60_000);
    const { load, loads } = counting();
    expect(await Promise.all([cache.get('a', load), cache.get('a', load)])).toEqual([1, 1]);
    expect(await cache.get('a', load)).toBe(1);
    cache.clear();
    expect(await cache.get('a', load)).toBe(2);
    expect(loads()).toBe(2);
  });

  it('does not keep a value loaded while it was cleared, nor one `keep` refuses, nor a failure', async () => {
    const cache = new LocalCache<string, number | null>(() => true, 60_000);
    let release!: (v: number) => void;
    const slow = cache.get('a', () => new Promise<number>((r) => (release = r)));
    cache.clear();
    release(1);
    expect(await slow).toBe(1);
    expect(await cache.get('a', async () => 2)).toBe(2);

    expect(
      await cache.get(
        'miss',
        async () => null,
        (v) => v !== null,
      ),
    ).toBeNull();
    await new Promise((r) => setImmediate(r));
    expect(
      await cache.get(
        'miss',
        async () => 3,
        (v) => v !== null,
      ),
    ).toBe(3);

    await expect(cache.get('err', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    await new Promise((r) => setImmediate(r));
    expect(await cache.get('err', async () => 4)).toBe(4);
  });

  it('expires entries, and does not cache while disabled', async () => {
    let enabled = true;
    const cache = new LocalCache<string, number>(() => enabled, 20);
    const { load } = counting();
    expect(await cache.get('a', load)).toBe(1);
    await new Promise((r) => setTimeout(r, 30));
    expect(await cache.get('a', load)).toBe(2);
    enabled = false;
    expect(await cache.get('a', load)).toBe(3);
    expect(await cache.get('a', load)).toBe(4);
  });
});

describe('SharedCaches', () => {
  const prefix = `test-${randomBytes(6).toString('hex')}`;
  const publisher = createRedis({ url: REDIS_URL, role: 'producer' });
  const replicas = [new SharedCaches(publisher, REDIS_URL, prefix), new SharedCaches(publisher, REDIS_URL, prefix)];
  afterAll(() => {
    for (const r of replicas) r.close();
    publisher.disconnect();
  });

  const until = async (probe: () => boolean) => {
    for (let i = 0; i < 200 && !probe(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(probe()).toBe(true);
  };

  it('drop a topic on every replica when one invalidates it', async () => {
    await until(() => replicas.every((r) => r.live));
    const [a, b] = replicas.map((r) => r.cache<string, string>('sources', 60_000));
    let version = 'v1';
    const load = async () => version;
    expect([await a!.get('k', load), await b!.get('k', load)]).toEqual(['v1', 'v1']);
    version = 'v2';
    await replicas[0]!.invalidate('sources');
    // The writer's own cache is dropped before invalidate() returns; the other's as the message arrives.
    expect(await a!.get('k', load)).toBe('v2');
    let seen = '';
    await until(() => {
      void b!.get('k', load).then((v) => (seen = v));
      return seen === 'v2';
    });
    // Another topic is left alone.
    const rules = replicas[1]!.cache<string, string>('rules', 60_000);
    expect(await rules.get('r', async () => 'r1')).toBe('r1');
    await replicas[0]!.invalidate('sources');
    expect(await rules.get('r', async () => 'r2')).toBe('r1');
  });

  it('drop every named cache of a topic, each kept apart from the others', async () => {
    await until(() => replicas.every((r) => r.live));
    const rules = replicas[1]!.cache<string, string>('rules', 60_000);
    const partners = replicas[1]!.cache<string, string>('rules', 60_000, 'feedback-partners');
    expect(replicas[1]!.cache<string, string>('rules', 60_000, 'feedback-partners')).toBe(partners);
    expect(await rules.get('k', async () => 'rule')).toBe('rule');
    expect(await partners.get('k', async () => 'partner')).toBe('partner');
    await replicas[0]!.invalidate('rules');
    let seen: string[] = [];
    await until(() => {
      void Promise.all([rules.get('k', async () => 'rule2'), partners.get('k', async () => 'partner2')]).then(
        (v) => (seen = v),
      );
      return seen[0] === 'rule2' && seen[1] === 'partner2';
    });
  });

  it('stop caching once closed (as when the subscription is lost)', async () => {
    const own = new SharedCaches(publisher, REDIS_URL, prefix);
    await until(() => own.live);
    own.close();
    expect(own.live).toBe(false);
    const cache = own.cache<string, number>('rules', 60_000);
    let n = 0;
    expect([await cache.get('x', async () => ++n), await cache.get('x', async () => ++n)]).toEqual([1, 2]);
  });
});
