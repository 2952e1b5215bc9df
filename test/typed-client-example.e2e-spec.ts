import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { ADMIN_SECRET, startApp, TestApp } from './helpers/test-app';
import { waitFor } from './helpers/ws-client';

/** The internal tool's script that the README shows for the typed client: it must keep working. */
describe('scripts/typed-client-example.ts', () => {
  const emulator = new RevenueCatEmulator();
  let app: TestApp;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    await emulator.listen();
    app = await startApp({ emulator });
  });
  afterAll(async () => {
    children.forEach((child) => child.kill());
    await app.close();
    await emulator.close();
  });

  it('applies once under its idempotency key, sees the replay, and prints the usageChanged event', async () => {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', join(__dirname, '..', 'scripts', 'typed-client-example.ts'), 'user_2abcXYZ', '15', 'TOOL-1 typed client test', 'tool-key-1'],
      { env: { ...process.env, GATEWAY_URL: app.url, TOKEN: ADMIN_SECRET }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    let stdout = '';
    let stderr = '';
    let exitCode: number | null | undefined;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => (exitCode = code));

    await waitFor(() => exitCode !== undefined || stdout.includes('again '), 20_000, 'the adjustment and its replay');
    // Its own grant's event can pass before the server has registered the subscription; a second grant then shows it.
    await waitFor(
      async () => {
        if (exitCode === undefined && !stdout.includes('event ')) {
          await app.client.query('mutation { adjustCredits(input: { userId: "user_2abcXYZ", amount: 1, reason: "TOOL-2 nudge" }) { id } }');
        }
        return exitCode !== undefined;
      },
      10_000,
      'the script to print an event and exit',
    );
    expect([exitCode, stderr]).toEqual([0, '']);
    const lines = Object.fromEntries(
      stdout
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf(' ')), JSON.parse(line.slice(line.indexOf(' ') + 1))]),
    );
    expect(lines.applied).toMatchObject({ balance: 265, replayed: false, idempotencyKey: 'tool-key-1' });
    expect(lines.again).toEqual({ ...lines.applied, replayed: true });
    expect(lines.event).toMatchObject({ currency: 'CRD' });
    const { body } = await app.client.query('{ adjustments(filter: { userId: "user_2abcXYZ" }) { nodes { reason } } }');
    expect(body.data?.adjustments.nodes.filter((node: { reason: string }) => node.reason === 'TOOL-1 typed client test')).toHaveLength(1);
  }, 40_000);
});
