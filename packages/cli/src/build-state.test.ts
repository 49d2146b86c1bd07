import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// The bin's own CommonJS module (it runs before anything is built).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { staleWorkspace, workspaces } = require('../bin/build-state.js') as {
  staleWorkspace(packagesDir: string): string | undefined;
  workspaces(packagesDir: string): string[];
};

/** Whether `npx leadrouter` runs the build or the sources (bin/build-state.js). */
describe('the CLI’s build state', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'leadrouter-build-state-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A workspace package with its dependencies, a source file and (when `builtAt`) a build, at these times (s). */
  function pkg(name: string, deps: string[], sourceAt: number, builtAt?: number) {
    const root = path.join(dir, name);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(path.join(root, 'src'), { recursive: true });
    const dependencies = Object.fromEntries([...deps.map((d) => [`@leadrouter/${d}`, '*']), ['commander', '*']]);
    writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: `@leadrouter/${name}`, dependencies }));
    const at = (file: string, seconds: number) => {
      writeFileSync(file, '');
      utimesSync(file, seconds, seconds);
    };
    at(path.join(root, 'src', 'index.ts'), sourceAt);
    at(path.join(root, 'src', 'index.test.ts'), sourceAt + 1000); // tests are not part of the build
    if (builtAt !== undefined) {
      mkdirSync(path.join(root, 'dist'));
      at(path.join(root, 'dist', 'index.js'), builtAt);
    }
  }

  it('follows the CLI’s @leadrouter dependencies, and theirs, from the package.json files', () => {
    pkg('cli', ['lifecycle', 'config'], 1, 2);
    pkg('lifecycle', ['money', 'config'], 1, 2);
    pkg('money', [], 1, 2);
    pkg('config', [], 1, 2);
    pkg('api', [], 1, 2); // not the CLI's
    expect(workspaces(dir).sort()).toEqual(['cli', 'config', 'lifecycle', 'money']);
    expect(staleWorkspace(dir)).toBeUndefined();
  });

  it('names a package the CLI loads whose build is missing or older than its sources', () => {
    pkg('cli', ['lifecycle'], 1, 2);
    pkg('lifecycle', ['money'], 1, 2);
    pkg('money', [], 3, 2);
    expect(staleWorkspace(dir)).toBe('money');
    pkg('money', [], 1);
    expect(staleWorkspace(dir)).toBe('money');
  });

  it('counts tsc -b’s tsconfig.tsbuildinfo as the build’s time (sources touched but unchanged)', () => {
    pkg('cli', [], 3, 2);
    const info = path.join(dir, 'cli', 'tsconfig.tsbuildinfo');
    writeFileSync(info, '');
    utimesSync(info, 4, 4);
    expect(staleWorkspace(dir)).toBeUndefined();
  });

  it('finds the packages of this repository that the CLI loads', () => {
    const packages = path.resolve(__dirname, '../..');
    expect(workspaces(packages)).toEqual(expect.arrayContaining(['cli', 'lifecycle', 'db', 'queue', 'config', 'core']));
  });
});
