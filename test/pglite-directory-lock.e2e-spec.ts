import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { LOCK_FILE } from '../src/database/data-dir-lock';
import { GatewayProcess, startGatewayProcess } from './helpers/gateway-process';
import { GraphQLClient } from './helpers/graphql-client';
import { ADMIN_SECRET } from './helpers/test-app';

const ADJUST = `mutation($input: AdjustCreditsInput!) { adjustCredits(input: $input) { id balance replayed } }`;

/** PGlite directories are one process's: real gateway processes (src/main.ts) on one directory. */
describe('a pglite: directory is owned by one process', () => {
  const emulator = new RevenueCatEmulator({ rateLimits: { virtual_currencies_create_transaction: Infinity, customer_information: Infinity } });
  const processes: GatewayProcess[] = [];
  let root: string;
  let dataDir: string;
  let userId: string;

  async function gateway(): Promise<GatewayProcess> {
    const started = await startGatewayProcess(
      {
        ADMIN_SECRET,
        REVENUECAT_API_KEY: emulator.apiKey,
        REVENUECAT_PROJECT_ID: emulator.projectId,
        REVENUECAT_API_URL: emulator.baseUrl,
        DATABASE_URL: `pglite:${dataDir}`,
      },
      90_000,
    ); // creating a database in WebAssembly, on a machine shared with other suites
    processes.push(started);
    return started;
  }

  async function adjust(gatewayProcess: GatewayProcess, key: string): Promise<{ balance: number; replayed: boolean }> {
    const client = new GraphQLClient(`${gatewayProcess.url}/graphql`, ADMIN_SECRET);
    const response = await client.query(ADJUST, { input: { userId, amount: 10, reason: 'LOCK-1 goodwill', idempotencyKey: key } });
    expect([response.status, response.body.errors]).toEqual([200, undefined]);
    return response.body.data!.adjustCredits as { balance: number; replayed: boolean };
  }

  const upstreamTransactions = () => emulator.transactions.filter((transaction) => transaction.customerId === userId).length;

  beforeAll(async () => {
    await emulator.listen();
  });
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'pglite-lock-'));
    dataDir = join(root, 'data');
    userId = `user_lock_${randomUUID().slice(0, 8)}`;
    emulator.addCustomer(userId, { CRD: 1000 });
  });
  afterEach(async () => {
    for (const started of processes.splice(0)) {
      if (started.child.exitCode === null && started.child.signalCode === null) {
        started.kill('SIGKILL');
        await started.exited;
      }
    }
    rmSync(root, { recursive: true, force: true });
  });
  afterAll(async () => {
    await emulator.close();
  });

  it('refuses a second process with a message naming DATABASE_URL, and the first keeps every row', async () => {
    const first = await gateway();
    expect(await adjust(first, 'lock-a')).toEqual({ id: expect.any(String), balance: 1010, replayed: false });

    const refused = await gateway().then(
      () => undefined,
      (error: { exitCode?: number | null; output?: string[] }) => error,
    );
    expect(refused).toBeDefined();
    expect(refused!.exitCode).not.toBe(0);
    expect(refused!.exitCode).not.toBeNull();
    expect(refused!.output!.join('\n')).toMatch(new RegExp(`DATABASE_URL pglite:\\S+ is in use by process ${first.child.pid}`));

    expect(await adjust(first, 'lock-b')).toEqual({ id: expect.any(String), balance: 1020, replayed: false });
    first.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);

    // Restarted: both adjustments are there, so their keys replay and nothing is sent again.
    const restarted = await gateway();
    expect(await adjust(restarted, 'lock-a')).toEqual({ id: expect.any(String), balance: 1010, replayed: true });
    expect(await adjust(restarted, 'lock-b')).toEqual({ id: expect.any(String), balance: 1020, replayed: true });
    expect(upstreamTransactions()).toBe(2);
  }, 240_000);

  it('takes over the lock of a process that was killed', async () => {
    const killed = await gateway();
    expect(await adjust(killed, 'lock-c')).toEqual({ id: expect.any(String), balance: 1010, replayed: false });
    killed.kill('SIGKILL');
    await killed.exited;
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(true);

    const next = await gateway();
    expect(await adjust(next, 'lock-c')).toEqual({ id: expect.any(String), balance: 1010, replayed: true });
    expect(upstreamTransactions()).toBe(1);
  }, 240_000);
});
