import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Browser, Locator, Page } from 'playwright-core';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { adjustmentIdFor, upstreamKeyFor } from '../src/idempotency/idempotency-keys';
import { HISTORY_CSV_COLUMNS } from '../src/journal/history-csv';
import { SubscriberRegistry } from '../src/realtime/subscriber-registry';
import { axeViolations, describeWithBrowser, launchBrowser, watchedPage, type WatchedPage } from './helpers/browser';
import { buildConsole, type ConsoleBuild } from './helpers/console-build';
import { errorCode } from './helpers/graphql-client';
import { describeWithPostgres } from './helpers/postgres';
import { ADMIN_SECRET, startApp, type TestApp } from './helpers/test-app';

// The DOM as the page functions below use it: the project compiles without TypeScript's DOM library.
interface WebStorage {
  length: number;
  key(index: number): string | null;
  getItem(key: string): string | null;
}
declare const localStorage: WebStorage;
declare const sessionStorage: WebStorage;
declare const document: { activeElement: unknown };

const ADJUST = `mutation Adjust($input: AdjustCreditsInput!) { adjustCredits(input: $input) { id balance replayed } }`;
const RECORD = `query Record($id: ID!) { adjustment(id: $id) { id status balance reversedBy { id } } }`;

/** The console's own x-request-id: `console-` and 12 random bytes in hex. */
const CONSOLE_REQUEST_ID = /^console-[0-9a-f]{24}$/;
const ACTION_TIMEOUT_MS = 10_000;
/** The gateway's attempts at one RevenueCat call: the first and REVENUECAT_MAX_RETRIES (its default, 2) more. */
const ATTEMPTS = 3;

function idOf(key: string): string {
  return adjustmentIdFor(upstreamKeyFor(key));
}

function storageEntries(page: Page, which: 'local' | 'session'): Promise<string[]> {
  return page.evaluate((name) => {
    const storage = name === 'local' ? localStorage : sessionStorage;
    const entries: string[] = [];
    for (let i = 0; i < storage.length; i++) {
      const key = storage.key(i)!;
      entries.push(`${key}=${storage.getItem(key)}`);
    }
    return entries;
  }, which);
}

/**
 * Polls `read` until it gives `expected` (deep equality) or the time is up, and returns what it read
 * last, for the caller's `expect` to show the difference. The wait is for an event, not a fixed sleep.
 */
async function settled<T>(read: () => Promise<T>, expected: T, timeoutMs = ACTION_TIMEOUT_MS): Promise<T> {
  const wanted = JSON.stringify(expected);
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (JSON.stringify(last) !== wanted && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    last = await read();
  }
  return last;
}

/** RFC 4180 records: quoted fields may hold commas, doubled quotes and line breaks. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted && char === '"' && text[i + 1] === '"') {
      field += '"';
      i += 1;
    } else if (char === '"') {
      quoted = !quoted;
    } else if (quoted) {
      field += char;
    } else if (char === ',') {
      record.push(field);
      field = '';
    } else if (char === '\r' && text[i + 1] === '\n') {
      records.push([...record, field]);
      record = [];
      field = '';
      i += 1;
    } else {
      field += char;
    }
  }
  if (field !== '' || record.length > 0) throw new Error(`CSV ends without CRLF: ${JSON.stringify(text.slice(-40))}`);
  return records;
}

/** The cells' texts of a table's body rows (a header row has no cells). */
async function bodyRows(table: Locator): Promise<string[][]> {
  const rows: string[][] = [];
  for (const row of await table.getByRole('row').all()) {
    const cells = await row.getByRole('cell').allTextContents();
    if (cells.length > 0) rows.push(cells.map((cell) => cell.trim()));
  }
  return rows;
}

interface HistoryLine {
  amount: string;
  currency: string;
  reason: string;
  status: string;
  by: string;
  approvedBy: string;
}

/** History's rows, by column: When, Amount, Currency, Reason, Status (its first word), By, Approved by. */
async function historyLines(page: Page): Promise<HistoryLine[]> {
  const rows = await bodyRows(history(page));
  return rows
    .filter((cells) => cells.length >= 7)
    .map(([, amount, currency, reason, status, by, approvedBy]) => ({ amount, currency, reason, status: status.split(/\s/)[0], by, approvedBy }));
}

const balances = (page: Page) => page.getByRole('table', { name: 'Balances' });
const history = (page: Page) => page.getByRole('table', { name: 'History' });
const historySection = (page: Page) => page.getByRole('region', { name: 'History' });
const adjustSection = (page: Page) => page.getByRole('region', { name: 'Adjust' });

function line(amount: string, reason: string, status = 'APPLIED', currency = 'CRD'): HistoryLine {
  return { amount, currency, reason, status, by: 'admin', approvedBy: '' };
}

describeWithPostgres('the console customer view in Chromium', () => {
  describeWithBrowser('sign in, look up, adjust, history, export against the real gateway', () => {
    let build: ConsoleBuild;
    let emulator: RevenueCatEmulator;
    let app: TestApp;
    let browser: Browser;
    const open: WatchedPage[] = [];

    beforeAll(async () => {
      build = await buildConsole();
      emulator = new RevenueCatEmulator();
      await emulator.listen();
      app = await startApp({ emulator, env: { CONSOLE_DIR: build.dir } });
      browser = await launchBrowser();
    }, 120_000);
    afterEach(async () => {
      for (const watched of open.splice(0)) await watched.context.close();
    });
    afterAll(async () => {
      await browser?.close();
      await app?.close();
      await emulator?.close();
      build?.remove();
    });

    async function newPage(): Promise<WatchedPage> {
      const watched = await watchedPage(browser);
      open.push(watched);
      watched.page.setDefaultTimeout(ACTION_TIMEOUT_MS);
      return watched;
    }

    function customer(label: string, balance: number): string {
      const userId = `user_console_${label}_${randomUUID().slice(0, 8)}`;
      emulator.addCustomer(userId, { CRD: balance });
      return userId;
    }

    async function adjust(userId: string, amount: number, reason: string, idempotencyKey?: string) {
      return app.client.query<{ adjustCredits: { id: string; balance: number } | null }>(ADJUST, { input: { userId, amount, reason, idempotencyKey } });
    }

    async function signIn(page: Page, token = ADMIN_SECRET): Promise<void> {
      await page.getByLabel('Token').fill(token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
    }

    /** A customer's page from a pasted link, signed in as the root secret, once its balances are shown. */
    async function openCustomer(userId: string): Promise<WatchedPage> {
      const watched = await newPage();
      await watched.page.goto(`${app.url}/console/customers/${encodeURIComponent(userId)}`);
      await signIn(watched.page);
      await balances(watched.page).getByRole('cell', { name: 'CRD' }).waitFor();
      return watched;
    }

    async function balanceRows(page: Page): Promise<string[][]> {
      return bodyRows(balances(page));
    }

    /** What every view must hold to: no serious axe finding, no CSP violation, no request off the gateway's origin, no page error. */
    async function expectClean(watched: WatchedPage): Promise<void> {
      expect(await axeViolations(watched.page)).toEqual([]);
      expect(await watched.cspViolations()).toEqual([]);
      const own = [app.url, app.url.replace(/^http/, 'ws'), `blob:${app.url}`];
      expect(watched.requests.filter((url) => !own.some((origin) => url === origin || url.startsWith(`${origin}/`)))).toEqual([]);
      expect(watched.consoleErrors.filter((text) => text.startsWith('pageerror'))).toEqual([]);
    }

    /** usageChanged events are only delivered once the page's subscription has reached the server. */
    async function subscribed(userId: string): Promise<void> {
      // The registry's index by user is private; reading it is the one way to know the subscription is live.
      const byUser = Reflect.get(app.app.get(SubscriberRegistry), 'byUser') as Map<string, Set<unknown>>;
      expect(await settled(async () => byUser.has(userId), true)).toBe(true);
    }

    it('refuses a wrong token with its code and request id, signs the root secret in as who it is, and signs out leaving no token behind', async () => {
      const watched = await newPage();
      const { page, context } = watched;
      await page.goto(`${app.url}/console/`);
      await page.getByLabel('Token').waitFor();
      await expectClean(watched);

      const refused = page.waitForResponse((response) => response.url() === `${app.url}/graphql`);
      await page.getByLabel('Token').fill('not-the-secret-0123456789');
      await page.getByRole('button', { name: 'Sign in' }).click();
      const requestId = (await refused).headers()['x-request-id'];
      expect(requestId).toMatch(CONSOLE_REQUEST_ID);
      const alert = page.getByRole('alert');
      await alert.waitFor();
      expect(await alert.getByText('invalid_admin_secret', { exact: true }).count()).toBe(1);
      expect(await alert.getByRole('code').textContent()).toBe(requestId);
      expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
      await expectClean(watched);

      await signIn(page);
      const banner = page.getByRole('banner');
      expect((await banner.getByText(/^Signed in as/).textContent())?.replace(/\s+/g, ' ').trim()).toBe('Signed in as admin ADMIN');
      expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents()).toEqual(['Customer', 'Approvals', 'Bulk jobs', 'Operators']);
      expect(await storageEntries(page, 'local')).toEqual([]);
      expect(await context.cookies()).toEqual([]);
      await expectClean(watched);

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('Token').waitFor();
      expect(await page.getByRole('button', { name: 'Sign in' }).count()).toBe(1);
      expect(await page.getByText(/^Signed in as/).count()).toBe(0);
      expect(await storageEntries(page, 'local')).toEqual([]);
      expect((await storageEntries(page, 'session')).filter((entry) => entry.includes(ADMIN_SECRET))).toEqual([]);
      expect(await context.cookies()).toEqual([]);
      // A reload after signing out asks for the token again: nothing kept it.
      await page.reload();
      await page.getByLabel('Token').waitFor();
      expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
    }, 60_000);

    it('asks a pasted customer link for the token, then shows that customer; `/` focuses User ID and Look up shows another', async () => {
      const first = customer('link', 125);
      const second = customer('lookup', 40);
      const watched = await newPage();
      const { page } = watched;
      await page.goto(`${app.url}/console/customers/${first}`);
      await page.getByLabel('Token').waitFor();
      expect(await page.getByRole('table', { name: 'Balances' }).count()).toBe(0);
      await signIn(page);
      expect(await settled(() => balanceRows(page), [['CRD', 'Credits', '125']])).toEqual([['CRD', 'Credits', '125']]);
      expect(page.url()).toBe(`${app.url}/console/customers/${first}`);
      expect(await page.getByRole('columnheader').allTextContents()).toEqual(expect.arrayContaining(['Currency', 'Name', 'Balance']));
      await expectClean(watched);

      const userIdField = page.getByLabel('User ID');
      const focused = () => userIdField.evaluate((element) => element === document.activeElement);
      await page.getByRole('heading', { level: 1, name: 'Customer' }).click();
      expect(await focused()).toBe(false);
      await page.keyboard.press('/');
      expect(await settled(focused, true)).toBe(true);
      // The key focused the field and was not typed into it.
      expect(await userIdField.inputValue()).toBe(first);

      await userIdField.fill(second);
      await page.getByRole('button', { name: 'Look up' }).click();
      await page.waitForURL(`${app.url}/console/customers/${second}`);
      expect(await settled(() => balanceRows(page), [['CRD', 'Credits', '40']])).toEqual([['CRD', 'Credits', '40']]);
      await expectClean(watched);
    }, 60_000);

    it('applies an adjustment once per submission, a double click included, and shows the new balance in the status region', async () => {
      const userId = customer('adjust', 100);
      const watched = await openCustomer(userId);
      const { page } = watched;
      const form = adjustSection(page);
      const status = form.getByRole('status');
      const sent: string[] = [];
      page.on('request', (request) => {
        const body = request.postData() ?? '';
        if (body.includes('adjustCredits')) sent.push((JSON.parse(body) as { variables: { input: { idempotencyKey: string } } }).variables.input.idempotencyKey);
      });
      await expectClean(watched);

      await form.getByLabel('Currency').selectOption('CRD');
      await form.getByLabel('Amount').fill('25');
      await form.getByLabel('Reason').fill('ADJ-1 goodwill');
      await form.getByRole('button', { name: 'Apply' }).click();
      await status.getByText('New balance').waitFor();
      expect((await status.textContent())?.trim()).toBe(`Applied +25 CRD to ${userId}. New balance: 125 CRD.`);
      expect(emulator.count('create_transaction', userId)).toBe(1);
      expect(await settled(() => balanceRows(page), [['CRD', 'Credits', '125']])).toEqual([['CRD', 'Credits', '125']]);
      expect(await settled(() => historyLines(page), [line('+25', 'ADJ-1 goodwill')])).toEqual([line('+25', 'ADJ-1 goodwill')]);

      // A slow RevenueCat keeps the first click's request in flight while the second one lands.
      emulator.injectFault({ endpoint: 'create_transaction', customerId: userId, latencyMs: 500 });
      await form.getByLabel('Amount').fill('10');
      await form.getByLabel('Reason').fill('ADJ-2 double clicked');
      await form.getByRole('button', { name: 'Apply' }).dblclick();
      await status.getByText('New balance: 135').waitFor();
      expect((await status.textContent())?.trim()).toBe(`Applied +10 CRD to ${userId}. New balance: 135 CRD.`);
      expect(await settled(() => historyLines(page), [line('+10', 'ADJ-2 double clicked'), line('+25', 'ADJ-1 goodwill')])).toEqual([
        line('+10', 'ADJ-2 double clicked'),
        line('+25', 'ADJ-1 goodwill'),
      ]);
      expect(emulator.count('create_transaction', userId)).toBe(2);
      expect(emulator.transactions.filter((transaction) => transaction.customerId === userId)).toHaveLength(2);
      // Two submissions, two keys: the double click sent one request.
      expect(sent).toHaveLength(2);
      expect(new Set(sent).size).toBe(2);
      expect(await settled(() => balanceRows(page), [['CRD', 'Credits', '135']])).toEqual([['CRD', 'Credits', '135']]);
      await expectClean(watched);
    }, 60_000);

    it('applies once when the answer is lost and Apply is pressed again: the same key, one transaction', async () => {
      const userId = customer('lost', 100);
      const watched = await openCustomer(userId);
      const { page } = watched;
      const form = adjustSection(page);
      const status = form.getByRole('status');
      const sent: string[] = [];
      page.on('request', (request) => {
        const body = request.postData() ?? '';
        if (body.includes('adjustCredits')) sent.push((JSON.parse(body) as { variables: { input: { idempotencyKey: string } } }).variables.input.idempotencyKey);
      });

      // The request reaches the gateway, which applies it; its answer never reaches the page.
      let lost = 0;
      await page.route(`${app.url}/graphql`, async (route) => {
        if (lost === 0 && (route.request().postData() ?? '').includes('adjustCredits')) {
          lost += 1;
          await route.fetch();
          await route.abort('connectionreset');
          return;
        }
        await route.continue();
      });
      await form.getByLabel('Amount').fill('5');
      await form.getByLabel('Reason').fill('LOST-1 answer lost');
      await form.getByRole('button', { name: 'Apply' }).click();
      await status.getByText('network_error').waitFor();
      expect(await status.getByText(/Apply again with the same values/).count()).toBe(1);
      expect(await status.getByRole('code').allTextContents()).toEqual([expect.stringMatching(CONSOLE_REQUEST_ID), sent[0]]);
      expect(emulator.count('create_transaction', userId)).toBe(1);

      await page.unroute(`${app.url}/graphql`);
      await form.getByRole('button', { name: 'Apply' }).click();
      await status.getByText('New balance').waitFor();
      expect((await status.textContent())?.trim()).toBe(`Already applied (this same request): +5 CRD to ${userId}. New balance: 105 CRD.`);
      expect(sent).toHaveLength(2);
      expect(sent[1]).toBe(sent[0]);
      expect(emulator.count('create_transaction', userId)).toBe(1);
      expect(emulator.transactions.filter((transaction) => transaction.customerId === userId)).toHaveLength(1);
      expect(emulator.balanceOf(userId, 'CRD')).toBe(105);
      expect(await settled(() => historyLines(page), [line('+5', 'LOST-1 answer lost')])).toEqual([line('+5', 'LOST-1 answer lost')]);
      expect(await settled(() => balanceRows(page), [['CRD', 'Credits', '105']])).toEqual([['CRD', 'Credits', '105']]);
    }, 60_000);

    it('shows a change made elsewhere in Balances and History by itself, without a reload', async () => {
      const userId = customer('live', 300);
      const watched = await openCustomer(userId);
      const { page } = watched;
      let navigations = 0;
      page.on('framenavigated', () => (navigations += 1));
      await subscribed(userId);
      expect(await historyLines(page)).toEqual([]);

      const started = Date.now();
      expect((await adjust(userId, -42, 'LIVE-1 spent elsewhere')).body.data?.adjustCredits?.balance).toBe(258);
      await balances(page).getByRole('cell', { name: '258', exact: true }).waitFor({ timeout: 3_000 });
      const tookMs = Date.now() - started;
      expect(tookMs).toBeLessThan(3_000);
      expect(await balanceRows(page)).toEqual([['CRD', 'Credits', '258']]);
      expect(await settled(() => historyLines(page), [line('−42', 'LIVE-1 spent elsewhere')])).toEqual([line('−42', 'LIVE-1 spent elsewhere')]);
      expect(navigations).toBe(0);
      await expectClean(watched);
    }, 60_000);

    it('shows the latest balance when a slow answer settles after a later change made elsewhere', async () => {
      const userId = customer('crossed', 100);
      const watched = await openCustomer(userId);
      const { page } = watched;
      await subscribed(userId);
      const form = adjustSection(page);
      // RevenueCat applies the console's +10 at once but answers late; meanwhile +5 is made elsewhere.
      emulator.injectFault({ endpoint: 'create_transaction', customerId: userId, latencyMs: 1_500, applyFirst: true });
      await form.getByLabel('Amount').fill('10');
      await form.getByLabel('Reason').fill('CROSS-1 slow answer');
      await form.getByRole('button', { name: 'Apply' }).click();
      expect(await settled(async () => emulator.balanceOf(userId, 'CRD'), 110)).toBe(110);
      expect((await adjust(userId, 5, 'CROSS-2 elsewhere')).body.data?.adjustCredits?.balance).toBe(115);
      await balances(page).getByRole('cell', { name: '115', exact: true }).waitFor();
      // The late answer (and its event) say 110, as of their own transaction; the table must end at 115.
      await form.getByRole('status').getByText('New balance: 110').waitFor();
      expect(await settled(() => balanceRows(page), [['CRD', 'Credits', '115']])).toEqual([['CRD', 'Credits', '115']]);
      expect(await settled(() => historyLines(page), [line('+5', 'CROSS-2 elsewhere'), line('+10', 'CROSS-1 slow answer')])).toEqual([
        line('+5', 'CROSS-2 elsewhere'),
        line('+10', 'CROSS-1 slow answer'),
      ]);
      await expectClean(watched);
    }, 60_000);

    it('lists history newest first with its columns, filters by Status, loads more, and reverses a row through the dialog, linked both ways', async () => {
      const userId = customer('history', 1000);
      const ids: string[] = [];
      for (let n = 1; n <= 22; n++) {
        const answered = await adjust(userId, n, `H-${n} seeded`);
        ids.push(answered.body.data!.adjustCredits!.id);
      }
      // One whose outcome is unknown (RevenueCat answered 503 to every attempt, nothing applied), for the filter.
      emulator.injectFault({ endpoint: 'create_transaction', customerId: userId, status: 503, count: ATTEMPTS });
      expect(errorCode(await adjust(userId, 500, 'H-unknown seeded'))).toBe('rc_call_failed');

      const watched = await openCustomer(userId);
      const { page } = watched;
      expect(await settled(() => balanceRows(page), [['CRD', 'Credits', '1,253']])).toEqual([['CRD', 'Credits', '1,253']]);
      expect(await history(page).getByRole('columnheader').allTextContents()).toEqual(['When', 'Amount', 'Currency', 'Reason', 'Status', 'By', 'Approved by', 'Actions']);
      const firstPage = [line('+500', 'H-unknown seeded', 'UNKNOWN'), ...Array.from({ length: 19 }, (_, i) => line(`+${22 - i}`, `H-${22 - i} seeded`))];
      expect(await settled(() => historyLines(page), firstPage)).toEqual(firstPage);
      const section = historySection(page);
      await expectClean(watched);

      await section.getByRole('button', { name: 'Load more' }).click();
      const everything = [...firstPage, ...[3, 2, 1].map((n) => line(`+${n}`, `H-${n} seeded`))];
      expect(await settled(() => historyLines(page), everything)).toEqual(everything);
      expect(await section.getByRole('button', { name: 'Load more' }).count()).toBe(0);

      await section.getByLabel('Status').selectOption('UNKNOWN');
      expect(await settled(() => historyLines(page), [line('+500', 'H-unknown seeded', 'UNKNOWN')])).toEqual([line('+500', 'H-unknown seeded', 'UNKNOWN')]);
      expect(await section.getByRole('button', { name: 'Load more' }).count()).toBe(0);
      await section.getByLabel('Status').selectOption('APPLIED');
      const applied = Array.from({ length: 20 }, (_, i) => line(`+${22 - i}`, `H-${22 - i} seeded`));
      expect(await settled(() => historyLines(page), applied)).toEqual(applied);
      await section.getByRole('button', { name: 'Load more' }).click();
      const allApplied = Array.from({ length: 22 }, (_, i) => line(`+${22 - i}`, `H-${22 - i} seeded`));
      expect(await settled(() => historyLines(page), allApplied)).toEqual(allApplied);
      await section.getByLabel('Status').selectOption('');
      expect(await settled(() => historyLines(page), firstPage)).toEqual(firstPage);

      // Reverse H-22, the newest APPLIED row.
      const original = ids[21];
      const originalRow = history(page).getByRole('row').filter({ hasText: 'H-22 seeded' });
      await originalRow.getByRole('button', { name: 'Reverse' }).click();
      const dialog = page.getByRole('dialog', { name: 'Reverse adjustment' });
      await dialog.waitFor();
      await expectClean(watched);
      await dialog.getByLabel('Reason').fill('H-22 undo');
      await dialog.getByRole('button', { name: 'Confirm reversal' }).click();
      await dialog.waitFor({ state: 'detached' });

      const reversedFirst = [line('−22', 'H-22 undo'), ...firstPage];
      expect(await settled(() => historyLines(page), reversedFirst)).toEqual(reversedFirst);
      expect(await settled(() => balanceRows(page), [['CRD', 'Credits', '1,231']])).toEqual([['CRD', 'Credits', '1,231']]);
      const record = await app.client.query<{ adjustment: { reversedBy: { id: string } | null } }>(RECORD, { id: original });
      const reversal = record.body.data!.adjustment.reversedBy!.id;
      // The original says it was reversed, by a link to the reversal's row; the reversal links back.
      await originalRow.getByText('reversed by').waitFor();
      expect(await originalRow.getByRole('button', { name: 'Reverse' }).count()).toBe(0);
      const toReversal = originalRow.getByRole('link');
      expect([await toReversal.getAttribute('href'), await toReversal.getAttribute('title')]).toEqual([`#adj-${reversal}`, reversal]);
      const reversalRow = history(page).getByRole('row').filter({ hasText: 'H-22 undo' });
      expect(await reversalRow.getAttribute('id')).toBe(`adj-${reversal}`);
      expect(await reversalRow.getByText('reversal of').count()).toBe(1);
      expect(await reversalRow.getByRole('button', { name: 'Reverse' }).count()).toBe(0);
      const toOriginal = reversalRow.getByRole('link');
      expect([await toOriginal.getAttribute('href'), await toOriginal.getAttribute('title')]).toEqual([`#adj-${original}`, original]);
      expect(await originalRow.getAttribute('id')).toBe(`adj-${original}`);
      expect(emulator.balanceOf(userId, 'CRD')).toBe(1231);
      await expectClean(watched);
    }, 90_000);

    it('retries an UNKNOWN row under its own key: it settles APPLIED with one transaction in all', async () => {
      const userId = customer('unknown', 100);
      const key = `console-unknown-${randomUUID()}`;
      // RevenueCat applies it but answers 503 to every attempt: the gateway cannot know, and records UNKNOWN.
      emulator.injectFault({ endpoint: 'create_transaction', customerId: userId, status: 503, applyFirst: true, count: ATTEMPTS });
      const lost = await adjust(userId, 25, 'UNK-1 answer lost upstream', key);
      expect(lost.body.errors?.[0]?.extensions).toMatchObject({ code: 'rc_call_failed', outcome: 'unknown' });
      expect((await app.client.query<{ adjustment: { status: string } }>(RECORD, { id: idOf(key) })).body.data?.adjustment.status).toBe('UNKNOWN');
      expect(emulator.transactions.filter((transaction) => transaction.customerId === userId)).toHaveLength(1);
      expect(emulator.count('create_transaction', userId)).toBe(ATTEMPTS);

      const watched = await openCustomer(userId);
      const { page } = watched;
      expect(await settled(() => historyLines(page), [line('+25', 'UNK-1 answer lost upstream', 'UNKNOWN')])).toEqual([line('+25', 'UNK-1 answer lost upstream', 'UNKNOWN')]);
      const row = history(page).getByRole('row').filter({ hasText: 'UNK-1' });
      expect(await row.getByRole('button', { name: 'Reverse' }).count()).toBe(0);
      await expectClean(watched);

      const sent: string[] = [];
      page.on('request', (request) => {
        const body = request.postData() ?? '';
        if (body.includes('adjustCredits')) sent.push((JSON.parse(body) as { variables: { input: { idempotencyKey: string } } }).variables.input.idempotencyKey);
      });
      await row.getByRole('button', { name: 'Retry' }).click();
      await historySection(page)
        .getByText(`Retried ${idOf(key)}: applied, balance 125 CRD.`)
        .waitFor();
      expect(await settled(() => historyLines(page), [line('+25', 'UNK-1 answer lost upstream')])).toEqual([line('+25', 'UNK-1 answer lost upstream')]);
      expect(await row.getByRole('button', { name: 'Retry' }).count()).toBe(0);
      expect(sent).toEqual([key]);
      expect((await app.client.query<{ adjustment: { status: string; balance: number } }>(RECORD, { id: idOf(key) })).body.data?.adjustment).toMatchObject({
        status: 'APPLIED',
        balance: 125,
      });
      // Sent again under its key: RevenueCat applied it once and replayed it.
      expect(emulator.count('create_transaction', userId)).toBe(ATTEMPTS + 1);
      expect(emulator.transactions.filter((transaction) => transaction.customerId === userId)).toHaveLength(1);
      expect(emulator.balanceOf(userId, 'CRD')).toBe(125);
      expect(await settled(() => balanceRows(page), [['CRD', 'Credits', '125']])).toEqual([['CRD', 'Credits', '125']]);
      await expectClean(watched);
    }, 60_000);

    it("exports the customer's history as CSV with a header row, its rows, and a formula-like reason prefixed with '", async () => {
      const userId = customer('csv', 100);
      const other = customer('csv_other', 100);
      const reasons = ['=1+2 CSV-1 formula', 'plain, CSV-2 "quoted"', 'CSV-3 first line\r\nsecond line'];
      const ids: string[] = [];
      for (const [i, reason] of reasons.entries()) ids.push((await adjust(userId, i + 1, reason)).body.data!.adjustCredits!.id);
      await adjust(other, 7, 'CSV-4 another customer');
      const watched = await openCustomer(userId);
      const { page } = watched;
      expect(await settled(async () => (await historyLines(page)).length, 3)).toBe(3);

      const downloaded = page.waitForEvent('download');
      await historySection(page).getByRole('button', { name: 'Export CSV' }).click();
      const download = await downloaded;
      expect(download.suggestedFilename()).toBe(`history-${userId}.csv`);
      const text = readFileSync(await download.path(), 'utf8');
      expect(text.endsWith('\r\n')).toBe(true);
      const [header, ...records] = parseCsv(text);
      expect(header).toEqual([...HISTORY_CSV_COLUMNS]);
      const pick = (record: string[]) => ['id', 'userId', 'amount', 'status', 'reason', 'actorName'].map((name) => record[header.indexOf(name)]);
      // Newest first; the formula-like reason gets its leading ', the others are quoted as RFC 4180 says.
      expect(records.map(pick)).toEqual([
        [ids[2], userId, '3', 'APPLIED', reasons[2], 'admin'],
        [ids[1], userId, '2', 'APPLIED', reasons[1], 'admin'],
        [ids[0], userId, '1', 'APPLIED', `'${reasons[0]}`, 'admin'],
      ]);
      expect(text).toContain(`,"${reasons[1].replace(/"/g, '""')}",`);
      expect(text).not.toContain(other);
      await historySection(page).getByText('Exported 3 rows.').waitFor();
      await expectClean(watched);
    }, 60_000);

    it('shows an HTML reason as text: no element made from it, nothing fetched or run', async () => {
      const userId = customer('html', 100);
      const reasons = ['<img src=x onerror=alert(1)> HTML-1', '<b>bold</b> HTML-2'];
      for (const reason of reasons) await adjust(userId, 1, reason);
      const watched = await newPage();
      const { page } = watched;
      const dialogs: string[] = [];
      page.on('dialog', (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      });
      await page.goto(`${app.url}/console/customers/${userId}`);
      await signIn(page);
      const expected = [line('+1', reasons[1]), line('+1', reasons[0])];
      expect(await settled(() => historyLines(page), expected)).toEqual(expected);
      for (const reason of reasons) {
        const cell = history(page).getByRole('cell', { name: reason, exact: true });
        expect(await cell.textContent()).toBe(reason);
      }
      expect(await history(page).locator('img, b').count()).toBe(0);
      expect(dialogs).toEqual([]);
      expect(watched.requests.filter((url) => /\/x$/.test(url))).toEqual([]);
      await expectClean(watched);
    }, 60_000);

    it("shows a refused adjustment's code and the request id it was sent with", async () => {
      const userId = customer('refused', 10);
      const watched = await openCustomer(userId);
      const { page } = watched;
      const form = adjustSection(page);
      await form.getByLabel('Amount').fill('-25');
      await form.getByLabel('Reason').fill('ERR-1 more than the balance');
      const answered = page.waitForResponse((response) => response.url() === `${app.url}/graphql` && (response.request().postData() ?? '').includes('adjustCredits'));
      await form.getByRole('button', { name: 'Apply' }).click();
      const response = await answered;
      const requestId = response.headers()['x-request-id'];
      expect(requestId).toMatch(CONSOLE_REQUEST_ID);
      expect(((await response.json()) as { errors: Array<{ extensions: Record<string, unknown> }> }).errors[0].extensions).toMatchObject({
        code: 'insufficient_balance',
        requestId,
      });
      const status = form.getByRole('status');
      await status.getByText('insufficient_balance', { exact: true }).waitFor();
      expect(await status.getByRole('code').allTextContents()).toEqual([requestId]);
      expect((await status.textContent())?.replace(/\s+/g, ' ').trim()).toBe(`insufficient_balance the deduction would take the balance below zero (request id ${requestId})`);
      // RevenueCat refused it: nothing applied.
      expect(emulator.count('create_transaction', userId)).toBe(1);
      expect(emulator.transactions.filter((transaction) => transaction.customerId === userId)).toEqual([]);
      expect(await balanceRows(page)).toEqual([['CRD', 'Credits', '10']]);
      await expectClean(watched);
    }, 60_000);
  });
});
