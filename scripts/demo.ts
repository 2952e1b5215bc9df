/**
 * `npm run demo`: the RevenueCat emulator and the gateway together, seeded, on loopback. No RevenueCat
 * account and no network needed. Prints what to paste to try every operation.
 */
import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/bootstrap';
import { loadConfig } from '../src/config/app-config';
import { shutdownOnSignals } from '../src/shutdown';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';

async function main(): Promise<void> {
  const emulator = new RevenueCatEmulator();
  const emulatorUrl = await emulator.listen(Number(process.env.EMULATOR_PORT ?? 0));
  const adminSecret = process.env.ADMIN_SECRET ?? `demo-${randomBytes(16).toString('hex')}`;
  // The embedded database, in memory, unless told otherwise; one instance, so no Redis with it.
  const databaseUrl = process.env.DATABASE_URL ?? 'pglite:memory';
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: databaseUrl,
    REDIS_URL: databaseUrl.startsWith('pglite:') ? undefined : process.env.REDIS_URL,
    ADMIN_SECRET: adminSecret,
    REVENUECAT_API_KEY: emulator.apiKey,
    REVENUECAT_PROJECT_ID: emulator.projectId,
    REVENUECAT_API_URL: emulatorUrl,
    HOST: process.env.HOST ?? '127.0.0.1',
  });
  const app = await createApp(config);
  // The service's own shutdown: drain, 1001 to subscribers, close, exit 0. The emulator is in this
  // process, so it serves the adjustments still in flight and ends with it.
  shutdownOnSignals(app, config.shutdownGraceMs);
  await app.listen(config.port, config.host);
  // The port bound, not the one asked for: PORT=0 picks a free one.
  const { port } = app.getHttpServer().address() as AddressInfo;
  const origin = `http://${config.host}:${port}`;
  const url = `${origin}/graphql`;
  const consoleUrl = `${origin}/console/`;
  const consoleBuilt = existsSync(join(config.consoleDir, 'index.html'));

  const curl = (query: string, extraHeaders = '') =>
    `curl -s ${url} -H 'content-type: application/json' -H "authorization: Bearer $ADMIN_SECRET"${extraHeaders} \\\n` +
    `  -d '${JSON.stringify({ query }).replace(/'/g, "'\\''")}'`;

  const lines = [
    '',
    'Credits admin gateway demo: the service on the built-in RevenueCat emulator (no account, no network).',
    '',
    `  Support console:                open ${consoleUrl} and paste the admin secret below into Token`,
    ...(consoleBuilt ? [] : [`                                  (not built yet: run npm run build, then npm run demo again)`]),
    `  Admin secret:                   ${adminSecret}`,
    '',
    `  GraphQL (HTTP and graphql-ws):  ${url}`,
    `  Apollo Sandbox:                 open ${url} in a browser, add header Authorization: Bearer <secret> (loads from Apollo's CDN: needs internet)`,
    `  RevenueCat emulator:            ${emulatorUrl} (project ${emulator.projectId})`,
    '  Demo customers:                 user_2abcXYZ (250 CRD), user_demo_rich (100000 CRD), user_demo_empty',
    '',
    'Try it (in another terminal):',
    '',
    `export ADMIN_SECRET='${adminSecret}'`,
    '',
    "# the project's currencies",
    curl('{ currencies { code name productGrants { productIds amount } } }'),
    '',
    "# one customer's balances",
    curl('{ balances(userId: "user_2abcXYZ", includeEmpty: true) { currency name balance } }'),
    '',
    '# grant 50 credits (run it twice: the second answer is the replay, and nothing is applied again);',
    '# X-On-Behalf-Of is how an internal tool names the person it acts for, kept in the journal',
    curl(
      'mutation { adjustCredits(input: { userId: "user_2abcXYZ", amount: 50, reason: "DEMO-1 goodwill", idempotencyKey: "demo-1" }) { id balance replayed } }',
      ` -H 'X-On-Behalf-Of: you@support.example'`,
    ),
    '',
    '# deduct more than the balance: 422 insufficient_balance with the current balance',
    curl('mutation { adjustCredits(input: { userId: "user_2abcXYZ", amount: -100000, reason: "DEMO-2 too much" }) { balance } }'),
    '',
    '# the journal: what was given to this user, by whom, and how it ended (refusals too), newest first',
    curl(
      '{ adjustments(filter: { userId: "user_2abcXYZ" }) { nodes { id amount reason status errorCode balance actor { name onBehalfOf } createdAt } pageInfo { endCursor hasNextPage } } }',
    ),
    '',
    '# watch usage.changed events over graphql-ws (in a third terminal; then run the grant again with a new key)',
    `GATEWAY_URL=${origin} TOKEN="$ADMIN_SECRET" npm run subscribe -- user_2abcXYZ`,
    '',
    'The journal is in memory here (DATABASE_URL=pglite:memory): it is gone when the demo stops.',
    'Ctrl-C stops both.',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((error: unknown) => {
  new Logger('Demo').error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
