import { ConfigError } from './env';
import { DEV_ADMIN_TOKEN, loadCliConfig, loadIngestConfig, loadWorkerConfig } from './config';

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

  it('coerces numbers and booleans', () => {
    const c = loadIngestConfig({ PORT: '8080', ALLOW_PRIVATE_DESTINATIONS: 'true', ADMIN_TOKEN: 'x'.repeat(20) });
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

  it('requires ADMIN_TOKEN in production and uses a dev default otherwise', () => {
    expect(() => loadIngestConfig({ NODE_ENV: 'production' })).toThrow(/^ADMIN_TOKEN is required/);
    expect(loadIngestConfig({}).ADMIN_TOKEN).toBe(DEV_ADMIN_TOKEN);
  });
  it('gives the CLI the database and queues the services use, validated the same way', () => {
    expect(loadCliConfig({})).toEqual({
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/leadrouter',
      REDIS_URL: 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: 'leadrouter',
    });
    expect(loadCliConfig({ QUEUE_PREFIX: '{lr}', ADMIN_TOKEN: 'ignored' })).toEqual(
      expect.objectContaining({ QUEUE_PREFIX: '{lr}' }),
    );
    expect(() => loadCliConfig({ QUEUE_PREFIX: 'a:b' })).toThrow(/^QUEUE_PREFIX=/);
  });
});
