import { ConfigError } from './env';
import {
  DEV_ADMIN_TOKEN,
  loadCliConfig,
  loadIngestConfig,
  loadWorkerConfig,
  MAX_QUEUE_PARTITIONS,
  redisTarget,
  trustProxySetting,
} from './config';

/** A token that passes the rules: 32 characters, 16 different. */
const GOOD_TOKEN = '0123456789abcdef'.repeat(2);

/** The ConfigError message `load` throws. */
function failure(load: () => unknown): string {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('applies the documented defaults', () => {
    const c = loadWorkerConfig({});
    expect(c).toMatchObject({
      REDIS_URL: 'redis://127.0.0.1:6379',
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/leadrouter',
      LOG_LEVEL: 'info',
      ALLOW_PRIVATE_DESTINATIONS: false,
      WORKER_PORT: 3001,
    });
  });

  it('keeps personal data for ever unless PII_RETENTION_DAYS says how many days, a whole number of them', () => {
    expect(loadWorkerConfig({}).PII_RETENTION_DAYS).toBe(0);
    expect(loadWorkerConfig({ PII_RETENTION_DAYS: '30' }).PII_RETENTION_DAYS).toBe(30);
    for (const bad of ['-1', '1.5', 'forever', '36501'])
      expect(() => loadWorkerConfig({ PII_RETENTION_DAYS: bad })).toThrow(
        new RegExp(`^PII_RETENTION_DAYS="${bad}" is invalid: it must be .*\\(days a lead's personal data`),
      );
  });

  it('names every amount’s currency: CURRENCY, an ISO 4217 code, USD unless told', () => {
    expect(loadIngestConfig({ ADMIN_TOKEN: GOOD_TOKEN }).CURRENCY).toBe('USD');
    expect(loadIngestConfig({ ADMIN_TOKEN: GOOD_TOKEN, CURRENCY: 'EUR' }).CURRENCY).toBe('EUR');
    expect(loadCliConfig({ CURRENCY: 'GBP' }).CURRENCY).toBe('GBP');
    for (const bad of ['usd', 'US', 'USDT', '€', 'U$D', ' USD'])
      for (const load of [
        () => loadIngestConfig({ ADMIN_TOKEN: GOOD_TOKEN, CURRENCY: bad }),
        () => loadCliConfig({ CURRENCY: bad }),
      ]) {
        const message = failure(load);
        expect(message).toBe(
          `CURRENCY=${JSON.stringify(bad)} is invalid: it must be an ISO 4217 currency code: three uppercase letters, such as USD, EUR or GBP (${'ISO 4217 code of every amount in this installation (prices, payouts, the ledger, reports, stats), named as `currency` where amounts are shown; amounts are never converted'})`,
        );
        expect(message.split('\n')).toHaveLength(1);
      }
  });

  it('coerces numbers and booleans', () => {
    const c = loadIngestConfig({ PORT: '8080', ALLOW_PRIVATE_DESTINATIONS: 'true', ADMIN_TOKEN: GOOD_TOKEN });
    expect(c.PORT).toBe(8080);
    expect(c.ALLOW_PRIVATE_DESTINATIONS).toBe(true);
  });

  it('stops on a bad value with one line naming the variable', () => {
    expect(() => loadIngestConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadIngestConfig({ PORT: 'eighty' })).toThrow(/^PORT="eighty" is invalid/);
    expect(() => loadWorkerConfig({ REDIS_URL: 'localhost:6379' })).toThrow(/^REDIS_URL=/);
    expect(() => loadWorkerConfig({ LOG_LEVEL: 'loud' })).toThrow(
      /^LOG_LEVEL=.*must be one of|^LOG_LEVEL=.*equal to one of/,
    );
  });

  it('never prints a database password', () => {
    try {
      loadWorkerConfig({ DATABASE_URL: 'mysql://u:hunter2@db/x' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect((err as Error).message).toMatch(/^DATABASE_URL=/);
      expect((err as Error).message).not.toContain('hunter2');
    }
  });

  it('never prints a password of a URL, in its user part or its query, nor a URL it cannot clean', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ DATABASE_URL: 'mysql://u:hunter2@db/x' }, /^DATABASE_URL="mysql:\/\/u:\*\*\*@db\/x" is invalid/],
      [{ REDIS_URL: 'http://:hunter2@cache:6379' }, /^REDIS_URL="http:\/\/:\*\*\*@cache:6379\/?" is invalid/],
      [{ DATABASE_URL: 'mysql://db/x?sslmode=require&password=hunter2' }, /password=\*\*\*/],
      [{ DATABASE_URL: 'u:hunter2@db' }, /^DATABASE_URL is invalid/],
      [{ REDIS_URL: 'tcp://u:hun ter2@db' }, /^REDIS_URL="tcp:\/\/u:\*\*\*@db\/?" is invalid/],
      [{ REDIS_URL: 'tcp://u:hunter2@[db' }, /^REDIS_URL is invalid/],
    ];
    for (const [env, shown] of cases) {
      const message = failure(() => loadWorkerConfig(env));
      expect(message).toMatch(shown);
      expect(message).not.toMatch(/hunter2|hun ter2/);
    }
    // Nothing secret-shaped in it: shown, to help.
    expect(failure(() => loadWorkerConfig({ REDIS_URL: 'localhost:6379' }))).toMatch(/^REDIS_URL="localhost:6379"/);
  });

  it('uses the dev admin token only with NODE_ENV=development', () => {
    expect(loadIngestConfig({ NODE_ENV: 'development' }).ADMIN_TOKEN).toBe(DEV_ADMIN_TOKEN);
    // Unset NODE_ENV is production: the public dev token must never open the admin API by omission.
    expect(loadIngestConfig({ ADMIN_TOKEN: GOOD_TOKEN }).NODE_ENV).toBe('production');
    for (const env of [{}, { NODE_ENV: 'production' }, { NODE_ENV: 'test' }])
      expect(failure(() => loadIngestConfig(env))).toMatch(/^ADMIN_TOKEN is required/);
    expect(loadIngestConfig({ NODE_ENV: 'development', ADMIN_TOKEN: GOOD_TOKEN }).ADMIN_TOKEN).toBe(GOOD_TOKEN);
  });

  it('refuses weak tokens, in every NODE_ENV, without ever printing them', () => {
    const weak = [
      ' '.repeat(16),
      ' '.repeat(40),
      'x'.repeat(64),
      'abababababababababababababababab',
      'short-but-varied-0123',
      DEV_ADMIN_TOKEN,
      `${GOOD_TOKEN} with spaces`,
      `${GOOD_TOKEN}\n`,
    ];
    for (const NODE_ENV of ['production', 'test', 'development']) {
      for (const token of weak) {
        for (const name of ['ADMIN_TOKEN', 'METRICS_TOKEN']) {
          const message = failure(() => loadIngestConfig({ NODE_ENV, ADMIN_TOKEN: GOOD_TOKEN, [name]: token }));
          expect({ token, message }).toEqual({
            token,
            message: expect.stringMatching(new RegExp(`^${name} is invalid: it must`)),
          });
          expect(message).not.toContain(token.trim() || token);
          expect(message.split('\n')).toHaveLength(1);
        }
      }
    }
    const c = loadIngestConfig({ ADMIN_TOKEN: GOOD_TOKEN, METRICS_TOKEN: 'Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0' });
    expect(c.METRICS_TOKEN).toBe('Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0');
  });

  it('trusts no proxy unless told which, and refuses to trust every one', () => {
    const trust = (TRUST_PROXY?: string) =>
      trustProxySetting(loadIngestConfig({ ADMIN_TOKEN: GOOD_TOKEN, TRUST_PROXY }).TRUST_PROXY);
    expect(trust()).toBe(false);
    expect(trust('1')).toBe(1);
    expect(trust('loopback, 10.0.0.0/8,fd00::/8, 192.168.1.0/255.255.255.0')).toEqual([
      'loopback',
      '10.0.0.0/8',
      'fd00::/8',
      '192.168.1.0/255.255.255.0',
    ]);
    expect(failure(() => trust('true'))).toMatch(/^TRUST_PROXY="true" is invalid: it must not be true/);
    for (const bad of [
      '10.0.0.0/33',
      'proxy.internal',
      '1.2.3',
      'fd00::/129',
      '10.0.0.0/255.0.255.0',
      'fd00::/255.0.0.0',
    ])
      expect(failure(() => trust(bad))).toMatch(/^TRUST_PROXY=.* is invalid/);
  });
  it('gives the CLI the database and queues the services use, validated the same way', () => {
    expect(loadCliConfig({})).toEqual({
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/leadrouter',
      REDIS_URL: 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: 'leadrouter',
      QUEUE_PARTITIONS: 1,
      CURRENCY: 'USD',
    });
    expect(loadCliConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000', QUEUE_PARTITIONS: '6' })).toEqual(
      expect.objectContaining({ REDIS_CLUSTER_NODES: '10.0.0.1:7000', QUEUE_PARTITIONS: 6 }),
    );
    expect(loadCliConfig({ QUEUE_PREFIX: '{lr}', ADMIN_TOKEN: 'ignored' })).toEqual(
      expect.objectContaining({ QUEUE_PREFIX: '{lr}' }),
    );
    expect(() => loadCliConfig({ QUEUE_PREFIX: 'a:b' })).toThrow(/^QUEUE_PREFIX=/);
  });

  it('reaches a Redis Cluster through REDIS_CLUSTER_NODES, and one server through REDIS_URL otherwise', () => {
    expect(redisTarget(loadWorkerConfig({ REDIS_URL: 'redis://cache:6380' }))).toEqual({
      kind: 'server',
      url: 'redis://cache:6380',
    });
    expect(
      redisTarget(
        loadWorkerConfig({
          REDIS_URL: 'redis://cache:6380',
          REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-2.internal:7001,[::1]:7002',
        }),
      ),
    ).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'redis-2.internal', port: 7001 },
        { host: '::1', port: 7002 },
      ],
    });
    for (const bad of [
      '10.0.0.1',
      '10.0.0.1:7000,',
      'redis://10.0.0.1:7000',
      '10.0.0.1:70000',
      '[db]:7000',
      ':7000',
      'a b:7000',
    ])
      expect(failure(() => loadWorkerConfig({ REDIS_CLUSTER_NODES: bad }))).toMatch(
        /^REDIS_CLUSTER_NODES=".*" is invalid: it must be host:port,host:port/,
      );
  });

  it('refuses a hash tag as QUEUE_PREFIX on a Redis Cluster, where it would put every key on one shard', () => {
    expect(loadWorkerConfig({ QUEUE_PREFIX: '{leadrouter}' }).QUEUE_PREFIX).toBe('{leadrouter}');
    for (const load of [
      loadWorkerConfig,
      loadCliConfig,
      (env: NodeJS.ProcessEnv) => loadIngestConfig({ ADMIN_TOKEN: GOOD_TOKEN, ...env }),
    ]) {
      const message = failure(() => load({ QUEUE_PREFIX: '{leadrouter}', REDIS_CLUSTER_NODES: '10.0.0.1:7000' }));
      expect(message).toMatch(
        /^QUEUE_PREFIX="\{leadrouter\}" is invalid with REDIS_CLUSTER_NODES: a hash tag puts every key in one slot/,
      );
      expect(message.split('\n')).toHaveLength(1);
    }
  });

  it('opens at most DATABASE_POOL_SIZE PostgreSQL connections per process, 10 unless told', () => {
    for (const load of [loadIngestConfig, loadWorkerConfig]) {
      expect(load({ ADMIN_TOKEN: GOOD_TOKEN }).DATABASE_POOL_SIZE).toBe(10);
      expect(load({ ADMIN_TOKEN: GOOD_TOKEN, DATABASE_POOL_SIZE: '40' }).DATABASE_POOL_SIZE).toBe(40);
      for (const bad of ['0', '1001', 'ten', '2.5'])
        expect(failure(() => load({ ADMIN_TOKEN: GOOD_TOKEN, DATABASE_POOL_SIZE: bad }))).toMatch(
          /^DATABASE_POOL_SIZE=".*" is invalid/,
        );
    }
  });

  it('keeps idle client connections KEEP_ALIVE_TIMEOUT_SECONDS, longer than 60 s balancers unless told', () => {
    expect(loadIngestConfig({ ADMIN_TOKEN: GOOD_TOKEN }).KEEP_ALIVE_TIMEOUT_SECONDS).toBe(65);
    expect(
      loadIngestConfig({ ADMIN_TOKEN: GOOD_TOKEN, KEEP_ALIVE_TIMEOUT_SECONDS: '620' }).KEEP_ALIVE_TIMEOUT_SECONDS,
    ).toBe(620);
    for (const bad of ['0', '3601', 'a minute', '1.5'])
      expect(failure(() => loadIngestConfig({ ADMIN_TOKEN: GOOD_TOKEN, KEEP_ALIVE_TIMEOUT_SECONDS: bad }))).toMatch(
        /^KEEP_ALIVE_TIMEOUT_SECONDS=".*" is invalid/,
      );
  });

  it('splits each queue into 1 to MAX_QUEUE_PARTITIONS sub-queues', () => {
    expect(loadWorkerConfig({}).QUEUE_PARTITIONS).toBe(1);
    expect(loadWorkerConfig({ QUEUE_PARTITIONS: String(MAX_QUEUE_PARTITIONS) }).QUEUE_PARTITIONS).toBe(
      MAX_QUEUE_PARTITIONS,
    );
    for (const bad of ['0', String(MAX_QUEUE_PARTITIONS + 1), 'two', '1.5'])
      expect(failure(() => loadWorkerConfig({ QUEUE_PARTITIONS: bad }))).toMatch(/^QUEUE_PARTITIONS=".*" is invalid/);
  });
});
