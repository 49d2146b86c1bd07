import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

/**
 * `npm run generate` (scripts/prisma-generate.js), which `npm test` and
 * `npm run build` run first: a client that comes out the same keeps its files'
 * times, so the `leadrouter` bin and tsc -b, which decide by them, still see
 * the build as current. Run in a copy of the files generation reads (the
 * repository's own generated client is in use by the other test files).
 */
describe('npm run generate', () => {
  let dir: string;
  let generated: string;
  const schema = () => path.join(dir, 'prisma/schema.prisma');

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'leadrouter-generate-'));
    for (const file of [
      'prisma/schema.prisma',
      'prisma.config.ts',
      'scripts/prisma-generate.js',
      'scripts/no-schema-engine.sh',
    ])
      cpSync(path.join(ROOT, file), path.join(dir, file));
    mkdirSync(path.join(dir, 'packages/db'), { recursive: true });
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    generated = path.join(dir, 'packages/db/src/generated');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function generate(): void {
    const run = spawnSync(process.execPath, [path.join(dir, 'scripts/prisma-generate.js'), '--quiet'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (run.status !== 0) throw new Error(`generate failed (${run.status ?? run.signal}): ${run.stderr}`);
  }

  /** Every generated file → its modification time, in whole milliseconds. */
  function times(): Map<string, number> {
    const files = readdirSync(generated, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    return new Map(
      files.map((e) => {
        const file = path.join(e.parentPath, e.name);
        return [path.relative(generated, file), Math.floor(statSync(file).mtimeMs)];
      }),
    );
  }

  /** Sets every generated file's modification time (and the schema's, a minute earlier) back to `at`. */
  function age(at: Date): void {
    for (const file of times().keys()) utimesSync(path.join(generated, file), at, at);
    const before = new Date(at.getTime() - 60_000);
    utimesSync(schema(), before, before);
  }

  it('leaves an unchanged client untouched, keeps it no older than its schema, and writes a changed one', () => {
    generate();
    const hourAgo = new Date(Date.now() - 3_600_000);
    age(hourAgo);
    const aged = times();
    expect(aged.size).toBeGreaterThan(5);

    generate();
    expect(times()).toEqual(aged);

    // The schema touched but not changed (a checkout): the client's files are not older than it.
    const touched = new Date(hourAgo.getTime() + 30 * 60_000);
    utimesSync(schema(), touched, touched);
    generate();
    const client = path.join(generated, 'prisma/client.ts');
    expect(statSync(client).mtimeMs).toBeGreaterThanOrEqual(statSync(schema()).mtimeMs); // the quick start's test
    for (const t of times().values()) expect(t - touched.getTime()).toBeLessThanOrEqual(1);

    // Changed: written as Prisma writes it.
    age(hourAgo);
    appendFileSync(schema(), '\n/// Added by the test.\nmodel GenerateProbe {\n  id Int @id\n}\n');
    generate();
    expect(times().get('prisma/client.ts')).toBeGreaterThan(Date.now() - 60_000);
    expect(times().has('prisma/models/GenerateProbe.ts')).toBe(true);
  }, 120_000);
});
