// The Dockerfile cannot be built here (no Docker engine), so this replays its
// stages into a temporary directory as far as they run without one, and runs
// what the runtime image's comment promises: `npx leadrouter dlq list`.
//
// - the manifests stage's own shell script, run for real (its /manifests
//   mapped to a temporary directory);
// - production-deps' `npm ci --omit=dev`, by the rules npm follows: each
//   workspace linked into node_modules; a workspace's `bin` linked into
//   node_modules/.bin only when its file exists at install time (npm 11 skips
//   it otherwise, and `npx` then finds no such command); the production
//   packages of package-lock.json, as links to this checkout's copies;
// - the build stage's script after its `npm run build` (this file runs
//   `tsc -b` instead), run for real;
// - the runtime stage's instructions, applied as written. An instruction the
//   replay does not know fails the test, so it follows the Dockerfile.
import { execFile, spawn } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase } from '../support/database';

const ROOT = path.resolve(__dirname, '../..');
const run = promisify(execFile);

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

/** The Dockerfile's stages, by name: instructions with their continuation lines joined, comments dropped. */
function parseDockerfile(text: string): Map<string, Stage> {
  const logical: string[] = [];
  let pieces: string[] = [];
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line)) continue;
    pieces.push(line.replace(/\\\s*$/, '').trim());
    if (/\\\s*$/.test(line)) continue;
    const joined = pieces.filter(Boolean).join(' ');
    if (joined) logical.push(joined);
    pieces = [];
  }
  const stages = new Map<string, Stage>();
  let stage: Stage | undefined;
  for (const entry of logical) {
    const [, op = '', args = ''] = /^(\S+)\s*(.*)$/.exec(entry) ?? [];
    if (op.toUpperCase() === 'FROM') {
      const [, from = '', name = ''] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      stage = { name, from, instructions: [] };
      stages.set(name, stage);
    } else stage?.instructions.push({ op: op.toUpperCase(), args });
  }
  return stages;
}

/** The one RUN of a stage whose script starts with `start`, without its `--mount=…` options. */
function runScript(stage: Stage, start: string): string {
  const runs = stage.instructions
    .filter((i) => i.op === 'RUN')
    .map((i) => i.args.replace(/^(--mount=\S+\s+)+/, ''))
    .filter((script) => script.startsWith(start));
  if (runs.length !== 1) throw new Error(`stage ${stage.name}: expected one RUN ${start}…, found ${runs.length}`);
  return runs[0]!;
}

async function sh(script: string, cwd: string): Promise<void> {
  await run('/bin/sh', ['-ec', script], { cwd, maxBuffer: 10 * 1024 * 1024 });
}

/**
 * What `npm ci --omit=dev --workspace …` leaves in `app` (which holds the
 * manifests): the workspaces linked, their commands linked where their files
 * exist, and every production package of the lock file (top level, and nested
 * in a workspace) as a link to this checkout's installed copy.
 */
function emulateNpmCi(app: string): void {
  const lock = JSON.parse(readFileSync(path.join(app, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { link?: boolean; resolved?: string; dev?: boolean }>;
  };
  const link = (target: string, at: string) => {
    mkdirSync(path.dirname(at), { recursive: true });
    symlinkSync(target, at);
  };
  for (const [key, entry] of Object.entries(lock.packages)) {
    const topLevel = /^node_modules\/(@[^/]+\/)?[^/]+$/.test(key);
    const inWorkspace = /^(packages|services|tools)\/[^/]+\/node_modules\/(@[^/]+\/)?[^/]+$/.test(key);
    if ((!topLevel && !inWorkspace) || entry.dev) continue;
    const at = path.join(app, key);
    if (entry.link) {
      link(path.relative(path.dirname(at), path.join(app, entry.resolved!)), at);
      const manifest = JSON.parse(readFileSync(path.join(app, entry.resolved!, 'package.json'), 'utf8')) as {
        name: string;
        bin?: Record<string, string>;
      };
      for (const [command, file] of Object.entries(manifest.bin ?? {})) {
        const target = path.join(app, entry.resolved!, file);
        if (!existsSync(target)) continue; // npm links no command whose file is missing
        chmodSync(target, 0o755);
        link(path.join('..', manifest.name, file), path.join(app, 'node_modules', '.bin', command));
      }
    } else if (existsSync(path.join(ROOT, key))) {
      link(path.join(ROOT, key), at); // (optional packages for other platforms are not installed here)
    }
  }
}

/** `COPY` into `dest` (relative to /app): a directory's contents, or a file into a directory. */
function copy(from: string, dest: string): void {
  if (!existsSync(from)) throw new Error(`COPY: ${from} does not exist`);
  const into = dest.endsWith('/') || lstatSync(from).isDirectory() ? dest : path.dirname(dest);
  mkdirSync(into, { recursive: true });
  const target = lstatSync(from).isDirectory() ? dest : path.join(into, path.basename(from));
  cpSync(from, target, { recursive: true, verbatimSymlinks: true });
}

describe('Dockerfile: the runtime image', () => {
  const stages = parseDockerfile(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
  let tmp: string;
  let app: string;
  let database: TestDatabase;
  const env: Record<string, string> = {};

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'leadrouter-image-'));
    const manifests = path.join(tmp, 'manifests');
    const prod = path.join(tmp, 'production-deps');
    const out = path.join(tmp, 'out');
    app = path.join(tmp, 'app');
    database = await createTestDatabase();

    // manifests: `COPY . .` then its script; the context is this checkout.
    await sh(runScript(stages.get('manifests')!, 'mkdir /manifests').replaceAll('/manifests', manifests), ROOT);

    // production-deps: the manifests, then npm ci for the services and the CLI.
    const deps = stages.get('production-deps')!;
    expect(deps.instructions.map((i) => i.args)).toContain('--from=manifests /manifests/ ./');
    const install = runScript(deps, 'npm ci --omit=dev ');
    expect(install).toContain('--workspace packages/cli');
    cpSync(manifests, prod, { recursive: true });
    emulateNpmCi(prod);

    // build: `npm run build` (tsc -b here: the Prisma client is generated before jest runs), then its copy script.
    const build = runScript(stages.get('build')!, 'npm run build &&').split(/\s*&&\s*/);
    await run(process.execPath, [require.resolve('typescript/bin/tsc', { paths: [ROOT] }), '-b'], {
      cwd: ROOT,
      timeout: 240_000,
    });
    await sh(build.slice(1).join(' && ').replaceAll('/out', out), ROOT);

    // runtime: its instructions as written.
    const roots: Record<string, Record<string, string>> = {
      'production-deps': { '/app/': prod },
      build: { '/out/': out },
    };
    mkdirSync(app);
    for (const { op, args } of stages.get('runtime')!.instructions) {
      if (op === 'ENV') {
        const [, name = '', value = ''] = /^(\w+)=(\S*)$/.exec(args) ?? [];
        env[name] = value;
      } else if (op === 'COPY') {
        const parts = args.split(/\s+/);
        const fromStage = parts[0]!.startsWith('--from=') ? parts.shift()!.slice('--from='.length) : undefined;
        const dest = path.join(app, parts.pop()!) + (args.endsWith('/') ? '/' : '');
        for (const src of parts) {
          const source = fromStage ? roots[fromStage]?.[src] : path.join(ROOT, src);
          if (!source) throw new Error(`replay: COPY --from=${fromStage} ${src} is not replayed; extend the replay`);
          copy(source, dest);
        }
      } else if (!['USER', 'EXPOSE', 'CMD'].includes(op)) {
        throw new Error(`replay: the runtime stage's ${op} is not replayed; extend the replay`);
      }
    }
  }, 300_000);

  afterAll(async () => {
    await database?.drop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  function inImage(command: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, {
        cwd: app,
        env: {
          PATH: process.env.PATH,
          HOME: tmp,
          ...env,
          // Never the registry: a missing command must fail, not be fetched.
          npm_config_offline: 'true',
          npm_config_cache: path.join(tmp, 'npm-cache'),
          npm_config_update_notifier: 'false',
          DATABASE_URL: database.url,
          REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  it('has the command of every workspace that declares one, linked by npm', () => {
    const commands = ['packages', 'services', 'tools'].flatMap((group) =>
      readdirSync(path.join(ROOT, group)).flatMap((name) => {
        const file = path.join(ROOT, group, name, 'package.json');
        if (!existsSync(file)) return [];
        return Object.keys((JSON.parse(readFileSync(file, 'utf8')) as { bin?: object }).bin ?? {});
      }),
    );
    expect(commands).toContain('leadrouter');
    for (const command of commands)
      expect({ command, linked: existsSync(path.join(app, 'node_modules/.bin', command)) }).toEqual({
        command,
        linked: true,
      });
    expect(existsSync(path.join(app, 'packages/cli/dist/main.js'))).toBe(true);
    expect(existsSync(path.join(app, 'packages/cli/src'))).toBe(false); // it runs the build, not the sources
  });

  it('runs `npx leadrouter dlq list` as its comment says, from the build alone', async () => {
    const listed = await inImage('npx', ['leadrouter', 'dlq', 'list', '--json']);
    expect({ code: listed.code, stderr: listed.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(listed.stdout)).toEqual({ items: [], nextCursor: null });
  }, 90_000);
});
