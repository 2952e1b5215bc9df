import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { axeViolations, describeWithBrowser, launchBrowser, watchedPage } from './helpers/browser';
import { describeWithPostgres } from './helpers/postgres';
import { startApp, type TestApp } from './helpers/test-app';

// The DOM as the page functions below use it: the project compiles without TypeScript's DOM library.
interface PageElement {
  textContent: string | null;
  append(node: PageElement): void;
}
declare const window: Record<string, unknown>;
declare const document: {
  body: PageElement & { dataset: Record<string, string | undefined> };
  createElement(tag: string): PageElement & { type: string };
  querySelector(selector: string): PageElement | null;
};

const FIXTURE = join(__dirname, 'fixtures', 'console-dist');

describeWithPostgres('the console in Chromium', () => {
  describeWithBrowser('the browser harness against a gateway serving a console build', () => {
    let app: TestApp;
    let browser: Browser;
    beforeAll(async () => {
      app = await startApp({ env: { CONSOLE_DIR: FIXTURE } });
      browser = await launchBrowser();
    });
    afterAll(async () => {
      await browser?.close();
      await app?.close();
    });

    it("loads a view's URL under the CSP with no violation, opens the same-origin socket, asks nothing of another origin, and passes axe", async () => {
      const watched = await watchedPage(browser);
      try {
        const { page } = watched;
        const response = await page.goto(`${app.url}/console/customers/user_1`);
        expect(response?.status()).toBe(200);
        await page.getByRole('status').filter({ hasText: 'ready' }).waitFor({ timeout: 10_000 });
        await page.waitForFunction(() => document.body.dataset.socket !== undefined, undefined, { timeout: 10_000 });
        // connect-src 'self' admits ws: to the page's own host in Chromium: the socket opened.
        expect(await page.evaluate(() => document.body.dataset.socket)).toBe('open');
        expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Support console');
        expect(await watched.cspViolations()).toEqual([]);
        expect(watched.consoleErrors).toEqual([]);
        expect(watched.requests.filter((url) => !url.startsWith(app.url) && !url.startsWith(app.url.replace('http:', 'ws:')))).toEqual([]);
        expect(await axeViolations(page)).toEqual([]);
      } finally {
        await watched.context.close();
      }
    });

    it('sees a violation when the page tries an inline script: the policy is enforced and the watch catches it', async () => {
      const watched = await watchedPage(browser);
      try {
        const { page } = watched;
        await page.goto(`${app.url}/console/`);
        await page.getByRole('status').filter({ hasText: 'ready' }).waitFor({ timeout: 10_000 });
        // Added through the DOM, as injected markup would be: CSP must refuse to run it.
        await page.evaluate(() => {
          const script = document.createElement('script');
          script.textContent = 'document.body.dataset.inline = "ran"';
          document.body.append(script);
        });
        await page.waitForFunction(() => (window.__cspViolations as string[]).length > 0, undefined, { timeout: 10_000 });
        expect(await page.evaluate(() => document.body.dataset.inline)).toBeUndefined();
        expect(await watched.cspViolations()).toContain('script-src-elem blocked inline');
      } finally {
        await watched.context.close();
      }
    });

    it('reports a serious axe violation on a page that has one', async () => {
      const watched = await watchedPage(browser);
      try {
        const { page } = watched;
        await page.goto(`${app.url}/console/`);
        await page.getByRole('status').filter({ hasText: 'ready' }).waitFor({ timeout: 10_000 });
        await page.evaluate(() => document.querySelector('main')!.append(Object.assign(document.createElement('input'), { type: 'text' })));
        expect((await axeViolations(page)).map((violation) => violation.id)).toContain('label');
      } finally {
        await watched.context.close();
      }
    });
  });
});
