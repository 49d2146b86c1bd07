import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * What the code's comments point at exists (issue 12): the repository has no SPEC file, so nothing says
 * `SPEC "…"`; a `README "…"` names a heading or a bold paragraph title of README.md (by its start); an
 * `ADR NNNN` names a file of docs/decisions.
 */
const ROOT = path.resolve(__dirname, '../..');
const DIRS = ['services', 'packages', 'prisma', 'test', 'scripts', 'tools', 'bench'];
const SOURCE = /\.(ts|tsx|js|mjs|cjs|sql|prisma)$/;
const SKIP = new Set(['node_modules', 'dist', 'generated']);

function sources(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(path.join(ROOT, dir), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return SKIP.has(e.name) ? [] : sources(rel);
    return SOURCE.test(e.name) ? [rel] : [];
  });
}

const files = [...DIRS.flatMap(sources), 'eslint.config.js'].map((file) => ({
  file,
  // A reference may run over two comment lines: join them.
  text: readFileSync(path.join(ROOT, file), 'utf8').replace(/\s*\n\s*(?:\*|\/\/\/?)?\s*/g, ' '),
}));

const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
/** Headings and bold paragraph titles (`**Feedback from partners.**`). */
const titles = [
  ...[...readme.matchAll(/^#+ (.+)$/gm)].map((m) => m[1]!.trim()),
  ...[...readme.matchAll(/^\*\*([^*]+?)\.?\*\*/gm)].map((m) => m[1]!.trim()),
];
const adrs = new Set(readdirSync(path.join(ROOT, 'docs/decisions')).map((f) => f.slice(0, 4)));

it('finds the sources it checks', () => {
  expect(files.length).toBeGreaterThan(200);
  expect(files.map((f) => f.file)).toContain('packages/core/src/lead.ts');
});

it('points at no SPEC: there is none, the README and the ADRs say it', () => {
  const found = files
    .filter(({ file, text }) => file !== 'test/ops/doc-references.test.ts' && /\bSPEC\b/.test(text))
    .map(({ file }) => file);
  expect(found).toEqual([]);
});

it('names README sections that exist', () => {
  const missing: string[] = [];
  for (const { file, text } of files) {
    // The test's own file names the pattern, not a section.
    if (file === 'test/ops/doc-references.test.ts') continue;
    for (const list of text.matchAll(/README ((?:"[^"]+"(?:, )?)+)/g)) {
      for (const [, name] of list[1]!.matchAll(/"([^"]+)"/g)) {
        const known = titles.some((t) => t === name || (t.startsWith(name!) && /^[ .:(]/.test(t.slice(name!.length))));
        if (!known) missing.push(`${file}: README "${name}"`);
      }
    }
  }
  expect(missing).toEqual([]);
});

it('names ADRs that exist', () => {
  const missing = files.flatMap(({ file, text }) =>
    [...text.matchAll(/\bADRs? (\d{4})\b/g)].filter((m) => !adrs.has(m[1]!)).map((m) => `${file}: ADR ${m[1]}`),
  );
  expect(missing).toEqual([]);
});
