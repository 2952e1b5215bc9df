import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../config/app-config';
import { LOCK_FILE, lockDataDirectory } from './data-dir-lock';

describe('lockDataDirectory', () => {
  let dir: string;
  let lockPath: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'data-dir-lock-'));
    lockPath = join(dir, LOCK_FILE);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** What a holder writes, for a process given by pid. */
  const holder = (pid: number, overrides: Record<string, unknown> = {}) => ({
    pid,
    hostname: hostname(),
    token: 'their-token',
    acquiredAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  });

  /** The start time the kernel gives a process (Linux), as the lock records it. */
  const startTimeOf = (pid: number) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  };

  it('holds the directory until released, refusing a second open meanwhile (also in the same process)', async () => {
    const lock = await lockDataDirectory(dir);
    expect(JSON.parse(readFileSync(lockPath, 'utf8'))).toMatchObject({ pid: process.pid, hostname: hostname() });
    const refused = await lockDataDirectory(dir).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).variable).toBe('DATABASE_URL');
    expect((refused as Error).message).toMatch(new RegExp(`^DATABASE_URL pglite:${dir} is in use by process ${process.pid} `));
    lock.release();
    expect(existsSync(lockPath)).toBe(false);
    (await lockDataDirectory(dir)).release();
  });

  it('refuses while another live process holds it', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => child.once('spawn', resolve));
      writeFileSync(lockPath, JSON.stringify(holder(child.pid!, { startTime: startTimeOf(child.pid!) })));
      await expect(lockDataDirectory(dir)).rejects.toThrow(new RegExp(`is in use by process ${child.pid} \\(since 2026-01-01`));
      expect(JSON.parse(readFileSync(lockPath, 'utf8')).token).toBe('their-token');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('takes over the lock of a process that is gone', async () => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await new Promise((resolve) => child.once('exit', resolve));
    writeFileSync(lockPath, JSON.stringify(holder(child.pid!)));
    const lock = await lockDataDirectory(dir);
    expect(JSON.parse(readFileSync(lockPath, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('takes over the lock of a process whose pid now belongs to another process', async () => {
    // The parent is alive, but started at another time than the recorded holder did.
    writeFileSync(lockPath, JSON.stringify(holder(process.ppid, { startTime: '1' })));
    const lock = await lockDataDirectory(dir);
    expect(JSON.parse(readFileSync(lockPath, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('takes over a lock naming this pid that this process does not hold (a restarted container is pid 1 again)', async () => {
    writeFileSync(lockPath, JSON.stringify(holder(process.pid, { startTime: '1' })));
    (await lockDataDirectory(dir)).release();
  });

  it('trusts a recent lock from another host, and takes over one left untouched', async () => {
    writeFileSync(lockPath, JSON.stringify(holder(4242, { hostname: 'another-host' })));
    await expect(lockDataDirectory(dir)).rejects.toThrow(/is in use by process 4242 on host another-host/);
    const old = new Date(Date.now() - 120_000);
    utimesSync(lockPath, old, old);
    (await lockDataDirectory(dir)).release();
  });

  it('takes over an unreadable lock once it is old (a crash right after creating it)', async () => {
    writeFileSync(lockPath, '');
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockPath, old, old);
    (await lockDataDirectory(dir)).release();
    expect(existsSync(lockPath)).toBe(false);
  });

  it('gives the directory to exactly one of several processes racing for a stale lock', async () => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await new Promise((resolve) => child.once('exit', resolve));
    writeFileSync(lockPath, JSON.stringify(holder(child.pid!)));
    const script = `require('ts-node/register/transpile-only');
      require(${JSON.stringify(join(__dirname, 'data-dir-lock.ts'))}).lockDataDirectory(${JSON.stringify(dir)})
        .then(() => { process.stdout.write('locked'); setTimeout(() => {}, 3000); }, () => process.stdout.write('refused'));`;
    const outcomes = await Promise.all(
      Array.from({ length: 4 }, () => {
        const racer = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        racer.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        return new Promise<string>((resolve) => racer.once('exit', () => resolve(out)));
      }),
    );
    expect(outcomes.sort()).toEqual(['locked', 'refused', 'refused', 'refused']);
  }, 60_000);
});
