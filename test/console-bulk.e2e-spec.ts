import type { Browser } from 'playwright-core';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { describeWithBrowser, launchBrowser, type WatchedPage } from './helpers/browser';
import { buildConsole, type ConsoleBuild } from './helpers/console-build';
import { createOperator, expectCleanView, signedInPage, uniqueUser, WAIT } from './helpers/console-session';
import { describeWithPostgres } from './helpers/postgres';
import { startApp, type TestApp } from './helpers/test-app';

jest.setTimeout(60_000);

interface Job {
  id: string;
  status: string;
  total: number;
  applied: number;
  cancelled: number;
}

describeWithPostgres('bulk jobs in the console, in Chromium', () => {
  describeWithBrowser('an ADMIN pastes, creates, starts and cancels jobs against the real gateway', () => {
    const emulator = new RevenueCatEmulator();
    let build: ConsoleBuild;
    let app: TestApp;
    let browser: Browser;
    const open: WatchedPage[] = [];

    beforeAll(async () => {
      build = await buildConsole();
      await emulator.listen();
      app = await startApp({ emulator, env: { CONSOLE_DIR: build.dir } });
      browser = await launchBrowser();
    });
    afterAll(async () => {
      await browser?.close();
      await app?.close();
      await emulator.close();
      build?.remove();
    });
    afterEach(async () => {
      for (const watched of open.splice(0)) await watched.context.close();
    });

    async function signInAsAdmin(path = '/console/'): Promise<WatchedPage> {
      const admin = await createOperator(app.client, 'ADMIN');
      const watched = await signedInPage(browser, app.url, admin.token, path);
      open.push(watched);
      return watched;
    }

    async function jobs(): Promise<Job[]> {
      const response = await app.client.query<{ bulkAdjustments: { nodes: Job[] } }>('query { bulkAdjustments(first: 100) { nodes { id status total applied cancelled } } }');
      if (!response.body.data) throw new Error(JSON.stringify(response.body.errors));
      return response.body.data.bulkAdjustments.nodes;
    }

    async function fillJob(watched: WatchedPage, csv: string, reason: string): Promise<void> {
      const { page } = watched;
      await page.getByLabel('Currency').selectOption('CRD');
      await page.getByLabel('Reason').fill(reason);
      await page.getByLabel('Items (CSV)').fill(csv);
      await page.getByRole('button', { name: 'Create job' }).click();
    }

    it('reports bad lines by number and creates nothing', async () => {
      const watched = await signInAsAdmin();
      const { page } = watched;
      await page.getByRole('link', { name: 'Bulk jobs' }).click();
      await page.getByRole('table', { name: 'Bulk jobs' }).waitFor(WAIT);
      await expectCleanView(watched, app.url);
      const before = (await jobs()).length;

      const [good, dup] = [uniqueUser('bulk_ok'), uniqueUser('bulk_dup')];
      await fillJob(watched, `userId,amount\n${good},5\n${dup},abc\n\n${dup},0\n${dup},3\n${uniqueUser('x')}`, 'INC-1 outage credit');
      const alert = page.getByRole('alert').filter({ hasText: 'not valid; nothing was created' });
      await alert.waitFor(WAIT);
      expect((await alert.getByRole('listitem').allTextContents()).map((text) => text.trim())).toEqual([
        'Line 3: amount "abc" is not a whole number',
        'Line 5: amount is 0 (amount_must_be_nonzero)',
        `Line 7: expected 2 fields (userId,amount), found 1`,
      ]);
      expect(await alert.locator('p').first().textContent()).toBe('3 lines are not valid; nothing was created.');
      expect(new URL(page.url()).pathname).toBe('/console/bulk');
      await expectCleanView(watched, app.url);
      expect((await jobs()).length).toBe(before);
      expect(emulator.count('create_transaction', good)).toBe(0);
    });

    it('creates a job from valid lines, starts it, and shows "applied N of N" live with N transactions sent', async () => {
      const watched = await signInAsAdmin('/console/bulk');
      const { page } = watched;
      const users = [uniqueUser('bulk_a'), uniqueUser('bulk_b'), uniqueUser('bulk_c')];
      for (const user of users) emulator.addCustomer(user, { CRD: 10 });
      await fillJob(watched, `userId,amount\n${users[0]},5\n${users[1]},7\n"${users[2]}",-2\n`, 'INC-2 outage credit');

      await page.waitForURL(/\/console\/bulk\/[^/]+$/, WAIT);
      const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
      const status = page.getByRole('status').filter({ hasText: /^applied / });
      await status.waitFor(WAIT);
      expect(await status.textContent()).toBe('applied 0 of 3, failed 0, pending 3');
      const itemRows = page.getByRole('table', { name: 'Items' }).locator('tbody').getByRole('row');
      // The items load after the job's counts: wait for the third row before counting them.
      await itemRows.nth(2).waitFor(WAIT);
      expect(await itemRows.count()).toBe(3);
      const created = (await jobs()).find((job) => job.id === id);
      expect(created).toMatchObject({ status: 'DRAFT', total: 3, applied: 0 });
      await expectCleanView(watched, app.url);

      await page.getByRole('button', { name: 'Start' }).click();
      // Through bulkAdjustmentProgress: nothing reloads the page.
      await page.getByRole('status').filter({ hasText: 'applied 3 of 3, failed 0, pending 0' }).waitFor(WAIT);
      await page.getByText('COMPLETED', { exact: true }).first().waitFor(WAIT);
      expect(await page.getByRole('button', { name: 'Start' }).count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Cancel' }).count()).toBe(0);
      expect(users.map((user) => emulator.count('create_transaction', user))).toEqual([1, 1, 1]);
      expect(users.map((user) => emulator.balanceOf(user, 'CRD'))).toEqual([15, 17, 8]);
      await expectCleanView(watched, app.url);

      // The list shows it, and its link leads back to the job.
      await page.getByRole('link', { name: '← Bulk jobs' }).click();
      const row = page.getByRole('table', { name: 'Bulk jobs' }).getByRole('row').filter({ hasText: id });
      await row.waitFor(WAIT);
      expect((await row.getByRole('cell').allTextContents()).slice(1, 5)).toEqual(['COMPLETED', 'applied 3 of 3, failed 0, pending 0', 'CRD', 'INC-2 outage credit']);
      await expectCleanView(watched, app.url);
    });

    it('cancels a draft job: nothing is sent', async () => {
      const watched = await signInAsAdmin('/console/bulk');
      const { page } = watched;
      const users = [uniqueUser('cancel_a'), uniqueUser('cancel_b')];
      await fillJob(watched, users.map((user) => `${user},4`).join('\n'), 'INC-3 to be cancelled');
      await page.waitForURL(/\/console\/bulk\/[^/]+$/, WAIT);
      const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
      await page.getByRole('status').filter({ hasText: 'applied 0 of 2' }).waitFor(WAIT);

      await page.getByRole('button', { name: 'Cancel' }).click();
      await page.getByRole('status').filter({ hasText: 'applied 0 of 2, failed 0, pending 0, cancelled 2' }).waitFor(WAIT);
      expect(await page.getByRole('button', { name: 'Start' }).count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Cancel' }).count()).toBe(0);
      expect((await jobs()).find((job) => job.id === id)).toMatchObject({ status: 'CANCELLED', total: 2, applied: 0, cancelled: 2 });
      expect(users.map((user) => emulator.count('create_transaction', user))).toEqual([0, 0]);
      await expectCleanView(watched, app.url);
    });
  });
});
