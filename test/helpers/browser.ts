import { accessSync, constants } from 'node:fs';
import { readFileSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

// The DOM as the functions below use it inside the page: the project compiles without TypeScript's DOM library.
declare const window: Record<string, unknown>;
declare const document: { addEventListener(type: 'securitypolicyviolation', listener: (event: { effectiveDirective: string; blockedURI: string }) => void): void };

/** Debian's chromium (.ci/run installs it with apt); CHROMIUM_PATH names another. playwright-core downloads no browser. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Headless, and quiet on the network: without the background-networking and component-update flags
 * Chromium calls Google's hosts at start, which this machine's closed network refuses. `--no-sandbox`
 * because CI runs as root. Playwright gives every launch a fresh temporary --user-data-dir of its own.
 */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

export function browserAvailable(): boolean {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * `describe` for tests that drive a real Chromium. With no browser they are skipped, loudly, outside CI;
 * under CI=true they fail instead, as the PostgreSQL and Redis suites do.
 */
export function describeWithBrowser(name: string, body: () => void): void {
  if (browserAvailable()) return describe(name, body);
  if (process.env.CI) {
    describe(name, () => {
      it('has a Chromium to run in', () => {
        throw new Error(`CI is set but there is no Chromium at ${CHROMIUM_PATH}: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`);
      });
    });
    return;
  }
  console.warn(
    `\n${'!'.repeat(100)}\n!!! No Chromium at ${CHROMIUM_PATH}: the browser tests "${name}" are SKIPPED.\n` +
      `!!! They run in CI (CI=true). apt-get install -y chromium (or set CHROMIUM_PATH) to run them here.\n${'!'.repeat(100)}\n`,
  );
  describe.skip(`${name} [SKIPPED: no Chromium at ${CHROMIUM_PATH}]`, body);
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 20_000 });
}

/** A page and what it reported: CSP violations (the DOM event and Chromium's console line), console errors, every request's URL. */
export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  cspViolations(): Promise<string[]>;
  consoleErrors: string[];
  requests: string[];
}

/**
 * A fresh context (no cookies or storage shared with any other) and a page in it, watched from before
 * its first script runs. The init script is injected through the DevTools protocol, which CSP does not
 * govern, so it is no hole in the policy under test.
 */
export async function watchedPage(browser: Browser, options: BrowserContextOptions = {}): Promise<WatchedPage> {
  const context = await browser.newContext(options);
  await context.addInitScript(() => {
    const seen: string[] = [];
    window.__cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (event) => seen.push(`${event.effectiveDirective} blocked ${event.blockedURI || '(inline)'}`));
  });
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(`pageerror: ${error.message}`));
  page.on('request', (request) => requests.push(request.url()));
  return {
    page,
    context,
    consoleErrors,
    requests,
    cspViolations: async () => {
      const fromDom = await page.evaluate(() => (window.__cspViolations as string[] | undefined) ?? []);
      return [...fromDom, ...consoleErrors.filter((line) => /Content Security Policy/i.test(line))];
    },
  };
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

let axeSource: string | undefined;

/**
 * axe-core's serious and critical violations on the page as it is now. axe is evaluated through the
 * DevTools protocol (page.evaluate of its source), which the console's CSP does not govern: the policy
 * stays exactly what users get, where addScriptTag would add an inline script that CSP refuses and
 * bypassCSP would switch the policy off for the whole check.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  const loaded = await page.evaluate(() => typeof window.axe === 'object');
  if (!loaded) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = window.axe as { run(context: unknown, options: object): Promise<{ violations: Array<Record<string, unknown>> }> };
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((violation) => ({
      id: violation.id as string,
      impact: (violation.impact as string | null) ?? null,
      help: violation.help as string,
      targets: (violation.nodes as Array<{ target: string[] }>).map((node) => node.target.join(' ')),
    }));
  });
  return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
}
