import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Resolves true after `ms`, or false as soon as `signal` aborts (at once if it has already). `ref: false`
 * for a wait that should not keep the process alive on its own.
 */
export async function pause(ms: number, signal: AbortSignal, options: { ref?: boolean } = {}): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal, ref: options.ref ?? true });
    return true;
  } catch {
    return false;
  }
}
