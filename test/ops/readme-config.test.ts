import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ingestEnv, workerEnv, type EnvVar } from '@leadrouter/config';

/** The README's configuration table and the config schemas must name the same variables with the same defaults. */
describe('README configuration table', () => {
  const readme = readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'));
  const rows = new Map(
    [...section.slice(0, section.indexOf('\n## ', 5)).matchAll(/^\|\s*`([A-Z_]+)`\s*\|\s*([^|]+?)\s*\|/gm)].map((m) => [
      m[1]!,
      m[2]!.trim(),
    ]),
  );
  const spec: Record<string, EnvVar> = { ...ingestEnv, ...workerEnv };

  it('lists every variable the processes read, and no other', () => {
    expect([...rows.keys()].sort()).toEqual(Object.keys(spec).sort());
  });

  it('gives each variable the default the schema applies', () => {
    for (const [name, v] of Object.entries(spec)) {
      if (v.default !== undefined)
        expect({ name, readme: rows.get(name) }).toEqual({ name, readme: expect.stringContaining(`\`${v.default}\``) });
      else expect({ name, readme: rows.get(name) }).toEqual({ name, readme: expect.stringMatching(/^none/) });
    }
  });
});
