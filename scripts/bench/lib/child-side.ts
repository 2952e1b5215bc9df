/**
 * The child half of the IPC protocol: announce readiness, answer stats requests (CPU and memory, after a
 * forced GC when asked) and shut down cleanly (so `--cpu-prof` profiles get written). A child whose parent
 * went away exits at once, so an interrupted benchmark never leaves servers behind.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import type { ChildMessage, ParentMessage, ProcessStats } from './protocol';

export interface ChildHooks {
  /** Extra figures added to every stats reply. */
  extra?: () => Record<string, number>;
  /** Closes the server; the process exits after it. */
  close: () => Promise<void>;
}

function send(message: ChildMessage): void {
  if (process.send && process.connected) process.send(message);
}

export function collectStats(gc: boolean, extra?: () => Record<string, number>): ProcessStats {
  const collect = (globalThis as { gc?: () => void }).gc;
  const gcForced = gc && typeof collect === 'function';
  if (gcForced) {
    // Two passes: the first can leave objects that only become unreachable once finalizers ran.
    collect();
    collect();
  }
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  let extraFigures: Record<string, number> | undefined;
  try {
    extraFigures = extra?.();
  } catch {
    extraFigures = undefined;
  }
  return {
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    heapTotalBytes: memory.heapTotal,
    externalBytes: memory.external,
    arrayBuffersBytes: memory.arrayBuffers,
    gcForced,
    extra: extraFigures,
  };
}

/** Sampling interval of the window profiler: finer than --cpu-prof's 1 ms default, for per-request figures. */
const PROFILE_INTERVAL_US = 200;
let profiler: Session | undefined;

function post<T>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => session.post(method, params ?? {}, (error: Error | null, result?: unknown) => (error ? reject(error) : resolve(result as T))));
}

/**
 * A CPU profile of one window (the measured part of a scenario, not start-up or warm-up), taken in
 * process through node:inspector: the same V8 sampler `--cpu-prof` uses.
 */
async function profile(action: 'start' | 'stop', path?: string): Promise<void> {
  if (action === 'start') {
    if (profiler) throw new Error('the profiler is already running');
    profiler = new Session();
    profiler.connect();
    await post(profiler, 'Profiler.enable');
    await post(profiler, 'Profiler.setSamplingInterval', { interval: PROFILE_INTERVAL_US });
    await post(profiler, 'Profiler.start');
    return;
  }
  if (!profiler) throw new Error('the profiler is not running');
  const session = profiler;
  profiler = undefined;
  const { profile: taken } = await post<{ profile: unknown }>(session, 'Profiler.stop');
  session.disconnect();
  if (path) writeFileSync(path, JSON.stringify(taken));
}

export function serveChild(port: number, hooks: ChildHooks, info?: Record<string, string>): void {
  if (!process.send) {
    // Started by hand: nothing to talk to, just say where it listens.
    process.stdout.write(`listening on 127.0.0.1:${port}\n`);
    return;
  }
  let closing = false;
  const shutdown = (id?: number) => {
    if (closing) return;
    closing = true;
    const deadline = setTimeout(() => process.exit(0), 5_000);
    deadline.unref();
    hooks
      .close()
      .catch(() => undefined)
      .finally(() => {
        if (id !== undefined) send({ type: 'shutdown', id });
        // Let the reply flush before exiting.
        setImmediate(() => process.exit(0));
      });
  };
  process.on('message', (raw: unknown) => {
    const message = raw as ParentMessage;
    if (message?.type === 'stats') {
      send({ type: 'stats', id: message.id, stats: collectStats(message.gc === true, hooks.extra) });
    } else if (message?.type === 'profile') {
      profile(message.action, message.path).then(
        () => send({ type: 'profile', id: message.id }),
        (error: unknown) => send({ type: 'profile', id: message.id, error: error instanceof Error ? error.message : String(error) }),
      );
    } else if (message?.type === 'shutdown') {
      shutdown(message.id);
    }
  });
  process.on('disconnect', () => shutdown());
  process.on('SIGTERM', () => shutdown());
  process.on('SIGINT', () => shutdown());
  send({ type: 'ready', port, info });
}

/** A start-up failure is reported on stderr (the parent shows it) and ends the child. */
export function failStart(what: string, error: unknown): never {
  process.stderr.write(`${what} failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}
