import type { Browser, Page } from 'playwright-core';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { describeWithBrowser, launchBrowser, type WatchedPage } from './helpers/browser';
import { buildConsole, type ConsoleBuild } from './helpers/console-build';
import { createOperator, expectCleanView, navLinks, signedInPage, uniqueUser, WAIT, type Role } from './helpers/console-session';
import { errorCode } from './helpers/graphql-client';
import { describeWithPostgres } from './helpers/postgres';
import { startApp, ADMIN_SECRET, type TestApp } from './helpers/test-app';

// The DOM as page functions below use it: the project compiles without TypeScript's DOM library.
declare const sessionStorage: { length: number };

jest.setTimeout(60_000);

const ADJUST = 'mutation Adjust($input: AdjustCreditsInput!) { adjustCredits(input: $input) { id balance } }';

/** The rows of a table's body as the cells' trimmed texts. */
async function bodyRows(page: Page, table: string): Promise<string[][]> {
  const rows = page.getByRole('table', { name: table }).locator('tbody').getByRole('row');
  const texts: string[][] = [];
  for (const row of await rows.all()) texts.push((await row.getByRole('cell').allTextContents()).map((text) => text.trim()));
  return texts;
}

async function waitForBalance(page: Page, currency: string, balance: string): Promise<void> {
  await page
    .getByRole('table', { name: 'Balances' })
    .getByRole('row')
    .filter({ has: page.getByRole('cell', { name: currency, exact: true }) })
    .filter({ has: page.getByRole('cell', { name: balance, exact: true }) })
    .waitFor(WAIT);
}

describeWithPostgres('the console by role, in Chromium', () => {
  describeWithBrowser('navigation, read-only, approvals and operators against the real gateway', () => {
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

    async function signIn(token: string, path?: string): Promise<WatchedPage> {
      const watched = await signedInPage(browser, app.url, token, path);
      open.push(watched);
      return watched;
    }

    async function adjustAs(token: string, userId: string, amount: number, reason: string) {
      return app.client.query<{ adjustCredits: { id: string; balance: number } }>(ADJUST, { input: { userId, amount, currency: 'CRD', reason } }, { token });
    }

    it.each<[Role, string[]]>([
      ['VIEWER', ['Customer', 'Approvals']],
      ['AGENT', ['Customer', 'Approvals']],
      ['SUPERVISOR', ['Customer', 'Approvals', 'Operators']],
      ['ADMIN', ['Customer', 'Approvals', 'Bulk jobs', 'Operators']],
    ])('shows a %s the links %j and who is signed in', async (role, links) => {
      const operator = await createOperator(app.client, role);
      const watched = await signIn(operator.token);
      expect(await navLinks(watched)).toEqual(links);
      expect(await watched.page.getByRole('banner').textContent()).toContain(`Signed in as ${operator.name} ${role}`);
      await expectCleanView(watched, app.url);
    });

    it('shows the root secret, acting as ADMIN, every link', async () => {
      const watched = await signIn(ADMIN_SECRET);
      expect(await navLinks(watched)).toEqual(['Customer', 'Approvals', 'Bulk jobs', 'Operators']);
    });

    it('gives a VIEWER balances and history but no control that changes anything, and the server refuses it anyway', async () => {
      const userId = uniqueUser('viewer');
      emulator.addCustomer(userId, { CRD: 100 });
      const applied = await app.client.query(ADJUST, { input: { userId, amount: 5, currency: 'CRD', reason: 'TCK-1 goodwill' } });
      expect(applied.body.errors).toBeUndefined();
      const viewer = await createOperator(app.client, 'VIEWER');
      const agent = await createOperator(app.client, 'AGENT');

      // The same customer for an AGENT first: the row has a Reverse button, so its absence below means something.
      const agentPage = await signIn(agent.token, `/console/customers/${userId}`);
      await agentPage.page.getByRole('table', { name: 'History' }).getByRole('row').filter({ hasText: 'TCK-1 goodwill' }).waitFor(WAIT);
      expect(await agentPage.page.getByRole('button', { name: 'Reverse' }).count()).toBe(1);
      expect(await agentPage.page.getByRole('button', { name: 'Apply' }).count()).toBe(1);

      const watched = await signIn(viewer.token, `/console/customers/${userId}`);
      const { page } = watched;
      await waitForBalance(page, 'CRD', '105');
      await page.getByRole('table', { name: 'History' }).getByRole('row').filter({ hasText: 'TCK-1 goodwill' }).waitFor(WAIT);
      expect(await bodyRows(page, 'Balances')).toEqual([['CRD', 'Credits', '105']]);
      expect(await page.getByRole('table', { name: 'History' }).locator('tbody').getByRole('row').count()).toBe(1);
      for (const name of ['Apply', 'Reverse', 'Retry']) expect(await page.getByRole('button', { name }).count()).toBe(0);
      for (const label of ['Amount', 'Reason', 'Currency']) expect(await page.getByLabel(label, { exact: true }).count()).toBe(0);
      await expectCleanView(watched, app.url);

      const refused = await adjustAs(viewer.token, userId, 5, 'TCK-1 viewer tries');
      expect(refused.status).toBe(403);
      expect(errorCode(refused)).toBe('forbidden');
      expect(emulator.count('create_transaction', userId)).toBe(1);
    });

    it("sends an AGENT's over-limit amount for approval, which a SUPERVISOR approves in another context: applied once, shown live", async () => {
      const userId = uniqueUser('approve');
      emulator.addCustomer(userId, { CRD: 100 });
      const agent = await createOperator(app.client, 'AGENT', { maxAdjustment: 10 });
      const supervisor = await createOperator(app.client, 'SUPERVISOR');

      const agentWatched = await signIn(agent.token, `/console/customers/${userId}`);
      const agentPage = agentWatched.page;
      await waitForBalance(agentPage, 'CRD', '100');
      await agentPage.getByLabel('Currency').selectOption('CRD');
      await agentPage.getByLabel('Amount').fill('50');
      await agentPage.getByLabel('Reason').fill('TCK-7 refund over limit');
      await agentPage.getByRole('button', { name: 'Apply' }).click();
      const outcome = agentPage.getByRole('status').filter({ hasText: 'approval request' });
      await outcome.waitFor(WAIT);
      const text = (await outcome.textContent()) ?? '';
      expect(text).toContain('Approval required');
      expect(text).toContain('a SUPERVISOR must approve');
      const requestId = /approval request (\S+) was made/.exec(text)?.[1];
      const pending = await app.client.query<{ approvalRequests: { nodes: Array<{ id: string; userId: string }> } }>(
        'query { approvalRequests(status: PENDING, first: 50) { nodes { id userId } } }',
      );
      expect(pending.body.data!.approvalRequests.nodes.filter((node) => node.userId === userId).map((node) => node.id)).toEqual([requestId]);
      expect(emulator.count('create_transaction', userId)).toBe(0);
      await expectCleanView(agentWatched, app.url);

      // The AGENT finds its request in Approvals, without buttons, then goes back to the customer.
      await agentPage.getByRole('link', { name: 'Approvals' }).click();
      const agentRow = agentPage.getByRole('table', { name: 'Approval requests' }).getByRole('row').filter({ hasText: userId });
      await agentRow.waitFor(WAIT);
      expect(await agentRow.getByRole('button').count()).toBe(0);
      await expectCleanView(agentWatched, app.url);
      await agentRow.getByRole('link', { name: userId }).click();
      await waitForBalance(agentPage, 'CRD', '100');

      const supervisorWatched = await signIn(supervisor.token);
      const supervisorPage = supervisorWatched.page;
      await supervisorPage.getByRole('link', { name: 'Approvals' }).click();
      const row = supervisorPage.getByRole('table', { name: 'Approval requests' }).getByRole('row').filter({ hasText: userId });
      await row.waitFor(WAIT);
      const cells = (await row.getByRole('cell').allTextContents()).map((cell) => cell.trim());
      expect(cells.slice(0, 4)).toEqual([userId, '+50', 'CRD', 'TCK-7 refund over limit']);
      expect(cells[4]).toContain(agent.name);
      expect(cells[5]).toMatch(/^2[34] h \d+ min left$/);
      expect(cells[6]).toBe('ApproveReject');
      await expectCleanView(supervisorWatched, app.url);

      await row.getByRole('button', { name: 'Approve' }).click();
      await supervisorPage
        .getByRole('status')
        .filter({ hasText: `Approved ${requestId}` })
        .waitFor(WAIT);
      expect(
        await supervisorPage
          .getByRole('status')
          .filter({ hasText: `Approved ${requestId}` })
          .textContent(),
      ).toContain('new balance 150');
      expect(await row.count()).toBe(0);
      // Live on the AGENT's page, through usageChanged: nobody reloaded it.
      await waitForBalance(agentPage, 'CRD', '150');
      expect(emulator.count('create_transaction', userId)).toBe(1);
      expect(emulator.balanceOf(userId, 'CRD')).toBe(150);
    });

    it('offers the requester no Approve on their own request, and Reject ends another with nothing applied', async () => {
      const ownUser = uniqueUser('own');
      const rejectUser = uniqueUser('reject');
      emulator.addCustomer(ownUser, { CRD: 10 });
      emulator.addCustomer(rejectUser, { CRD: 10 });
      const requester = await createOperator(app.client, 'SUPERVISOR', { maxAdjustment: 5 });
      const agent = await createOperator(app.client, 'AGENT', { maxAdjustment: 5 });
      const own = await adjustAs(requester.token, ownUser, 20, 'TCK-8 my own request');
      expect(errorCode(own)).toBe('approval_required');
      const other = await adjustAs(agent.token, rejectUser, 30, 'TCK-9 to be rejected');
      expect(errorCode(other)).toBe('approval_required');
      const otherId = other.body.errors![0].extensions!.approvalRequestId as string;

      const watched = await signIn(requester.token, '/console/approvals');
      const { page } = watched;
      const table = page.getByRole('table', { name: 'Approval requests' });
      const ownRow = table.getByRole('row').filter({ hasText: ownUser });
      await ownRow.waitFor(WAIT);
      expect(await ownRow.getByRole('button').count()).toBe(0);
      expect(await ownRow.getByRole('cell').last().textContent()).toBe('your request');

      const otherRow = table.getByRole('row').filter({ hasText: rejectUser });
      await otherRow.getByRole('button', { name: 'Reject' }).click();
      const dialog = page.getByRole('dialog', { name: 'Reject approval request' });
      await dialog.waitFor(WAIT);
      await dialog.getByLabel('Reason').fill('TCK-9 not eligible');
      await expectCleanView(watched, app.url);
      await dialog.getByRole('button', { name: 'Confirm rejection' }).click();
      await page
        .getByRole('status')
        .filter({ hasText: `Rejected ${otherId}: nothing was applied.` })
        .waitFor(WAIT);
      expect(await otherRow.count()).toBe(0);
      expect(await ownRow.count()).toBe(1);

      const rejected = await app.client.query<{ approvalRequests: { nodes: Array<{ id: string }> } }>(
        'query { approvalRequests(status: REJECTED, first: 50) { nodes { id } } }',
      );
      expect(rejected.body.data!.approvalRequests.nodes.map((node) => node.id)).toContain(otherId);
      expect(emulator.count('create_transaction', rejectUser)).toBe(0);
      expect(emulator.count('create_transaction', ownUser)).toBe(0);
    });

    it('creates an operator whose token is shown once and works, then revokes it: its next request is refused', async () => {
      const admin = await createOperator(app.client, 'ADMIN');
      const watched = await signIn(admin.token);
      const { page } = watched;
      await page.getByRole('link', { name: 'Operators' }).click();
      const table = page.getByRole('table', { name: 'Operators' });
      await table.getByRole('row').filter({ hasText: admin.name }).waitFor(WAIT);
      await expectCleanView(watched, app.url);

      const name = `Ana ${uniqueUser('op')}`;
      await page.getByLabel('Name', { exact: true }).fill(name);
      await page.getByLabel('Role', { exact: true }).selectOption('AGENT');
      await page.getByLabel('Max adjustment', { exact: true }).fill('500');
      await page.getByLabel('Daily limit', { exact: true }).fill('2000');
      await page.getByRole('button', { name: 'Create operator' }).click();
      const newToken = page.getByLabel('New token');
      await newToken.waitFor(WAIT);
      const token = ((await newToken.textContent()) ?? '').trim();
      expect(token).toMatch(/^cgo_[A-Za-z0-9_-]{43}$/);
      const row = table.getByRole('row').filter({ hasText: name });
      await row.waitFor(WAIT);
      expect((await row.getByRole('cell').allTextContents()).slice(0, 5)).toEqual([name, 'AGENT', '500', '2,000', `${token.slice(0, 8)}…`]);
      await expectCleanView(watched, app.url);

      const userId = uniqueUser('newop');
      emulator.addCustomer(userId, { CRD: 7 });
      const other = await signIn(token, `/console/customers/${userId}`);
      expect(await other.page.getByRole('banner').textContent()).toContain(`Signed in as ${name} AGENT`);
      await waitForBalance(other.page, 'CRD', '7');

      // Shown once: away and back, it is gone.
      await page.getByRole('link', { name: 'Customer' }).click();
      await page.getByLabel('User ID').waitFor(WAIT);
      await page.getByRole('link', { name: 'Operators' }).click();
      await row.waitFor(WAIT);
      expect(await page.getByLabel('New token').count()).toBe(0);
      expect(await page.getByText(token).count()).toBe(0);

      await row.getByRole('button', { name: 'Revoke' }).click();
      await page
        .getByRole('status')
        .filter({ hasText: `Revoked ${name}` })
        .waitFor(WAIT);

      const refused = await app.client.query('query { me { name } }', undefined, { token });
      expect(refused.status).toBe(403);
      expect(errorCode(refused)).toBe('invalid_admin_secret');
      // The browser that holds it is refused too (its graphql-ws socket is closed with 4403 within a second,
      // or its next request answers 403): the console drops the token and asks for one, quoting the code.
      await other.page.getByLabel('Token').waitFor(WAIT);
      const note = other.page.getByRole('alert').filter({ hasText: /invalid_admin_secret|token_revoked/ });
      await note.waitFor(WAIT);
      expect(await note.textContent()).toMatch(/^(invalid_admin_secret|token_revoked) .*\(request id \S+/);
      expect(await other.page.evaluate(() => sessionStorage.length)).toBe(0);
    });

    it('offers a SUPERVISOR only the roles it may hand out', async () => {
      const supervisor = await createOperator(app.client, 'SUPERVISOR');
      const watched = await signIn(supervisor.token, '/console/operators');
      const options = watched.page.getByLabel('Role', { exact: true }).getByRole('option');
      await options.first().waitFor({ state: 'attached', ...WAIT });
      expect((await options.allTextContents()).map((text) => text.trim())).toEqual(['VIEWER', 'AGENT']);
      await watched.page.getByRole('table', { name: 'Operators' }).getByRole('row').filter({ hasText: supervisor.name }).waitFor(WAIT);
      await expectCleanView(watched, app.url);
    });
  });
});
