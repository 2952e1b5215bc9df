import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../config/app-config';

/** The lock's file, inside the PGlite data directory (PostgreSQL ignores files it does not know). */
export const LOCK_FILE = 'gateway.lock';
/** A holder on another host cannot be asked whether it lives: it touches the file this often... */
const HEARTBEAT_MS = 10_000;
/** ...and its lock is stale once untouched this long. */
const FOREIGN_STALE_MS = 60_000;
/** A lock file without readable content is one being written right now, or left by a crash right after creating it. */
const UNREADABLE_STALE_MS = 5_000;

/** Who holds a directory. `startTime` and `bootId` tell a live holder from a later process given the same pid. */
interface Holder {
  pid: number;
  hostname: string;
  bootId?: string;
  startTime?: string;
  token: string;
  acquiredAt: string;
}

/** A held lock: release it once, on close (it is also released if the process exits without closing). */
export interface DataDirectoryLock {
  readonly path: string;
  release(): void;
}

/** Paths this process holds, so that a second open in the same process is refused too. */
const heldHere = new Set<string>();

/**
 * Takes the directory for this process, or refuses with a ConfigError naming DATABASE_URL. PGlite's own
 * postmaster.pid names a pid inside its WebAssembly sandbox, so it keeps no other process out; two
 * processes on one directory each keep their own copy of the database in memory and overwrite each
 * other's files. A lock left by a process that died (SIGKILL, a crash) is taken over.
 */
export async function lockDataDirectory(dir: string): Promise<DataDirectoryLock> {
  const path = join(dir, LOCK_FILE);
  const me: Holder = { pid: process.pid, hostname: hostname(), ...processIdentity(process.pid), token: randomBytes(12).toString('hex'), acquiredAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 50; attempt++) {
    if (create(path, me)) return hold(path, me);
    const found = read(path);
    if (found === 'missing') continue;
    if (found !== 'unreadable' && isLive(found, path)) throw lockedError(dir, found);
    if (found === 'unreadable' && ageMs(path) < UNREADABLE_STALE_MS) {
      await sleep(100);
      continue;
    }
    await takeOver(path, found);
  }
  throw new ConfigError('DATABASE_URL', `pglite:${dir} could not be locked for this process (${path} keeps changing); is another process starting on it?`);
}

function create(path: string, holder: Holder): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, `${JSON.stringify(holder)}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

function read(path: string): Holder | 'missing' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  try {
    const holder = JSON.parse(text) as Holder;
    return Number.isInteger(holder.pid) && typeof holder.hostname === 'string' && typeof holder.token === 'string' ? holder : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

function isLive(holder: Holder, path: string): boolean {
  if (holder.hostname !== hostname()) return ageMs(path) < FOREIGN_STALE_MS;
  const now = processIdentity(holder.pid);
  if (holder.bootId !== undefined && now.bootId !== undefined && holder.bootId !== now.bootId) return false;
  if (holder.pid === process.pid) {
    // The same pid as ours: this process (a second open here), or one before it given the same pid (pid 1 in a restarted container).
    return heldHere.has(path) || (holder.startTime !== undefined && holder.startTime === now.startTime);
  }
  if (holder.startTime !== undefined && now.startTime !== undefined) return holder.startTime === now.startTime;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, run by another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes a stale lock, under a second exclusive file so that two processes finding the same stale lock
 * cannot both remove it (the second would remove the first's new lock): the content is read again once
 * the guard is held, and only the stale lock seen is removed.
 */
async function takeOver(path: string, stale: Holder | 'unreadable'): Promise<void> {
  const guard = `${path}.takeover`;
  let fd: number;
  try {
    fd = openSync(guard, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // A process killed while taking over leaves its guard: old guards are removed.
    if (ageMs(guard) > UNREADABLE_STALE_MS) unlinkQuietly(guard);
    else await sleep(100);
    return;
  }
  closeSync(fd);
  try {
    const now = read(path);
    const same = now === 'unreadable' || stale === 'unreadable' ? now === stale : now !== 'missing' && now.token === stale.token;
    if (same) unlinkQuietly(path);
  } finally {
    unlinkQuietly(guard);
  }
}

function hold(path: string, me: Holder): DataDirectoryLock {
  heldHere.add(path);
  const heartbeat = setInterval(() => {
    try {
      const now = new Date();
      utimesSync(path, now, now);
    } catch {
      // The directory went away: nothing to keep.
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    clearInterval(heartbeat);
    process.removeListener('exit', release);
    heldHere.delete(path);
    const found = read(path);
    if (found !== 'missing' && found !== 'unreadable' && found.token === me.token) unlinkQuietly(path);
  };
  // process.exit() (a failed start, Nest's abort on error) runs no shutdown hook, but does run this.
  process.once('exit', release);
  return { path, release };
}

/** Linux: the boot and the process's start time (clock ticks since boot), which a reused pid does not share. */
function processIdentity(pid: number): { bootId?: string; startTime?: string } {
  const identity: { bootId?: string; startTime?: string } = {};
  try {
    identity.bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    // not Linux
  }
  try {
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    identity.startTime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    // no such process, or not Linux
  }
  return identity;
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return Infinity;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function lockedError(dir: string, holder: Holder): ConfigError {
  const where = holder.hostname === hostname() ? `process ${holder.pid}` : `process ${holder.pid} on host ${holder.hostname}`;
  return new ConfigError(
    'DATABASE_URL',
    `pglite:${dir} is in use by ${where} (since ${holder.acquiredAt}): an embedded database belongs to one process. ` +
      'Stop that process, give this one another directory, or use a postgres:// DATABASE_URL to run several instances.',
  );
}
