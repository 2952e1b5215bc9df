import { spawn } from 'node:child_process';
import { join } from 'node:path';

/**
 * The embedded engine (DATABASE_URL=pglite:...) through the real database and journal code. PGlite's
 * CommonJS build loads its files with import(), which jest's CommonJS runtime refuses, so this runs
 * scripts/pglite-smoke.ts in a child process and checks what it reports. One child, one PGlite instance
 * at a time: the first one costs several hundred MB.
 */
describe('the embedded database (PGlite)', () => {
  it('migrates, claims, settles, reverses once, runs a bulk job and reads back after a reopen, in memory and in a directory', async () => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, '..', 'scripts', 'pglite-smoke.ts')], {
      cwd: join(__dirname, '..'),
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`pglite-smoke exited with ${code}:\n${stderr}${stdout}`);

    const report = JSON.parse(stdout.trim().split('\n').pop()!);
    const journey = {
      whilePending: 'in_progress',
      settled: 'APPLIED',
      replay: 'settled',
      reversal: 'claimed',
      secondReversal: 'already_reversed',
      listed: 2,
      dailyLimitReserved: 2,
      ping: true,
      bulk: { added: 'added', duplicate: 'duplicate', acquired: 1, queued: 2, completed: 'COMPLETED', applied: 2, settledRecently: 2 },
    };
    expect(report.memory).toMatchObject(journey);
    expect(report.dir).toMatchObject(journey);
    expect(report.reopened).toEqual({ status: 'APPLIED', balance: 125, reversedById: report.dir.reversalId, migrations: 4 });
    expect(typeof report.dir.reversalId).toBe('string');
  }, 120_000);
});
