import type { Browser } from 'playwright-core';
import { axeViolations, watchedPage, type WatchedPage } from './browser';
import type { GraphQLClient } from './graphql-client';

export type Role = 'VIEWER' | 'AGENT' | 'SUPERVISOR' | 'ADMIN';

/** Playwright waits in these tests: long enough for a busy 2-core machine, short enough to fail fast. */
export const WAIT = { timeout: 10_000 };

let operatorCount = 0;

/** An operator made through the API as the root secret: its token is what a support person would paste. */
export async function createOperator(
  client: GraphQLClient,
  role: Role,
  limits: { maxAdjustment?: number; dailyLimit?: number } = {},
): Promise<{ id: string; name: string; token: string }> {
  const name = `${role.toLowerCase()} ${process.pid}-${++operatorCount}-${Date.now().toString(36)}`;
  const response = await client.query<{ createOperator: { token: string; operator: { id: string; name: string } } }>(
    'mutation Create($input: CreateOperatorInput!) { createOperator(input: $input) { token operator { id name } } }',
    { input: { name, role, ...limits } },
  );
  const created = response.body.data?.createOperator;
  if (!created) throw new Error(`createOperator failed: ${JSON.stringify(response.body.errors)}`);
  return { id: created.operator.id, name: created.operator.name, token: created.token };
}

let userCount = 0;

/** A user id no other test (or earlier run against the same emulator) uses. */
export function uniqueUser(label: string): string {
  return `user_${label}_${process.pid}_${++userCount}_${Date.now().toString(36)}`;
}

/** A fresh browser context, signed in through the console's own form at `path`, waiting for the shell. */
export async function signedInPage(browser: Browser, baseUrl: string, token: string, path = '/console/'): Promise<WatchedPage> {
  const watched = await watchedPage(browser);
  try {
    const { page } = watched;
    watched.context.setDefaultTimeout(WAIT.timeout);
    await page.goto(`${baseUrl}${path}`);
    await page.getByLabel('Token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor(WAIT);
    return watched;
  } catch (error) {
    await watched.context.close();
    throw error;
  }
}

/** The links of the main navigation, in order. */
export async function navLinks(watched: WatchedPage): Promise<string[]> {
  const nav = watched.page.getByRole('navigation', { name: 'Main' });
  return (await nav.getByRole('link').allTextContents()).map((text) => text.trim());
}

/** What every visited view must be: no axe serious/critical finding, no CSP violation, no request off the gateway's origin. */
export async function expectCleanView(watched: WatchedPage, baseUrl: string): Promise<void> {
  expect(await axeViolations(watched.page)).toEqual([]);
  expect(await watched.cspViolations()).toEqual([]);
  const ws = baseUrl.replace('http:', 'ws:');
  expect(watched.requests.filter((url) => !url.startsWith(baseUrl) && !url.startsWith(ws))).toEqual([]);
}
