import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { ADMIN_SECRET, startApp, TestApp } from './helpers/test-app';
import { waitFor } from './helpers/ws-client';

/** The example subscriber the README and the demo point app developers at: it must keep working. */
describe('scripts/subscribe-usage.ts', () => {
  const emulator = new RevenueCatEmulator();
  let app: TestApp;
  const children: ChildProcess[] = [];

  function run(token: string, userId?: string) {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, '..', 'scripts', 'subscribe-usage.ts'), ...(userId ? [userId] : [])], {
      env: { ...process.env, GATEWAY_URL: app.url, TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const output = { stdout: '', stderr: '', exitCode: undefined as number | null | undefined };
    child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
    child.on('exit', (code) => (output.exitCode = code));
    return output;
  }

  beforeAll(async () => {
    await emulator.listen();
    app = await startApp({ emulator });
  });
  afterAll(async () => {
    children.forEach((child) => child.kill());
    await app.close();
    await emulator.close();
  });

  it('prints each usage.changed envelope for the watched user as a JSON line', async () => {
    const output = run(ADMIN_SECRET, 'user_2abcXYZ');
    await waitFor(() => output.stderr.includes('connected to'), 20_000, 'the script to connect');
    await waitFor(
      async () => {
        await app.client.query('mutation { adjustCredits(input: { userId: "user_2abcXYZ", amount: 5, reason: "SCRIPT-1 test" }) { id } }');
        return output.stdout.includes('\n');
      },
      10_000,
      'an event line',
    );
    const [line] = output.stdout.trim().split('\n');
    expect(JSON.parse(line)).toMatchObject({ type: 'usage.changed', silent: true, userId: 'user_2abcXYZ', delta: 5 });
  }, 40_000);

  it('stops with exit code 1 when the server refuses its token (4401), instead of retrying', async () => {
    const output = run('not-a-valid-token');
    await waitFor(() => output.exitCode !== undefined, 20_000, 'the script to exit');
    expect(output.exitCode).toBe(1);
    expect(output.stderr).toContain('closed: 4401 invalid_token');
  }, 40_000);
});
