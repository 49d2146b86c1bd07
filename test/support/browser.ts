// Browser tests of the operator console: Debian's Chromium driven by
// playwright-core (never a downloaded browser), axe-core injected into the
// page, screenshots at desktop and phone width written to test-results/console/
// (git-ignored) for a reviewer to look at.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { describeWhen } from './requirements';

const ROOT = path.resolve(__dirname, '../..');
const CONSOLE = path.join(ROOT, 'services/console');
export const SCREENSHOTS = path.join(ROOT, 'test-results/console');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;

/** `describe` when Chromium is there (`describeWhen`: fails under CI=true without it, else skipped). */
export function describeInBrowser(name: string, fn: () => void): void {
  const reason = `Chromium is not at ${CHROMIUM}: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH`;
  describeWhen(existsSync(CHROMIUM), reason, name, fn);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // --no-sandbox: the tests run as root here.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * The console's build, made when it is missing or older than its sources
 * (`npm test` without `npm run build` first): the ingest serves dist/.
 */
export function ensureConsoleBuilt(): void {
  const index = path.join(CONSOLE, 'dist/index.html');
  const sources = Math.max(
    newestMtime(path.join(CONSOLE, 'src')),
    statSync(path.join(CONSOLE, 'index.html')).mtimeMs,
    statSync(path.join(CONSOLE, 'vite.config.mjs')).mtimeMs,
  );
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  execFileSync('npm', ['run', 'build', '--workspace', 'services/console'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 120_000,
  });
}

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

/**
 * axe-core's WCAG 2 A/AA rules on the page as it is; answers the serious and
 * critical violations (empty when there are none). axe is evaluated through
 * the DevTools protocol, which the page's CSP does not govern, so the policy
 * under test stays as strict as in production.
 */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  // A string, evaluated in the page (the tests' own TypeScript has no DOM types).
  const violations = await page.evaluate(`axe
    .run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
    .then((result) => result.violations)`);
  return (violations as AxeViolation[])
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.impact} ${v.id}: ${v.help} at ${v.nodes
          .slice(0, 3)
          .map((n) => JSON.stringify(n.target))
          .join(', ')}`,
    );
}

/**
 * The page at desktop and at phone width: a screenshot of each
 * (`<name>-1280x800.png`, `<name>-390x844.png`) and axe's serious or critical
 * violations at each, answered with the width they were found at.
 */
export async function inspect(page: Page, name: string): Promise<string[]> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const before = page.viewportSize();
  const problems: string[] = [];
  for (const size of Object.values(VIEWPORTS)) {
    await page.setViewportSize(size);
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${size.width}x${size.height}.png`), fullPage: true });
    for (const v of await seriousA11yViolations(page)) problems.push(`${size.width}px ${v}`);
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    if (overflow > 1) problems.push(`${size.width}px: the page is ${overflow}px wider than the window`);
  }
  if (before) await page.setViewportSize(before);
  return problems;
}
