import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const compose = spawnSync('docker-compose', ['version', '--short']).status === 0;

/** docker-compose.yml is for users; Debian's docker-compose validates it offline (no engine needed). */
(compose ? describe : describe.skip)('docker-compose.yml', () => {
  const config = (env: Record<string, string | undefined>) =>
    spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, ...env },
    });

  it('is valid with ADMIN_TOKEN set', () => {
    const r = config({ ADMIN_TOKEN: 'compose-admin-token-0123456789abcdef' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('refuses to start without ADMIN_TOKEN, saying so', () => {
    const r = config({ ADMIN_TOKEN: undefined });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('ADMIN_TOKEN');
  });
});

if (!compose) {
  test.skip('docker-compose.yml validation: docker-compose is not installed (Debian package docker-compose)', () =>
    undefined);
}
