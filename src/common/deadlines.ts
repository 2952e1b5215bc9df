import { performance } from 'node:perf_hooks';

/**
 * Many deadlines of one and the same duration on a single timer: a request body that must arrive within
 * N ms, an upstream exchange that must end within N ms. A Node timer per request (a `Timeout` object, its
 * insertion into the timer lists and their priority queue, then its removal) cost several times what this
 * does: a Map entry added and removed. With one duration the deadlines expire in the order they were set,
 * which is the Map's order, so the one timer only ever waits for the oldest deadline still pending.
 *
 * Each deadline belongs to a key (the request, the exchange); `clear(key)` when the work ends in time. An
 * expired deadline is removed before its callback runs. The timer is unref'd: a pending deadline does not
 * keep the process alive by itself (the socket it guards does).
 */
export class Deadlines {
  private readonly pending = new Map<object, { at: number; expire: () => void }>();
  /** Armed for the oldest pending deadline: one set later never expires earlier, so it needs no timer of its own. */
  private timer: NodeJS.Timeout | undefined;
  /** While expired callbacks run: a deadline one of them sets is armed for by the loop, not by `set`. */
  private firing = false;

  constructor(
    private readonly durationMs: number,
    /** Monotonic milliseconds: a wall clock set back would hold every deadline back with it. */
    private readonly clock: { now(): number } = performance,
  ) {}

  /** Calls `expire` once `durationMs` have passed, unless `clear(key)` comes first. A key holds one deadline. */
  set(key: object, expire: () => void): void {
    const at = this.clock.now() + this.durationMs;
    this.pending.delete(key);
    this.pending.set(key, { at, expire });
    if (this.timer === undefined && !this.firing) this.arm(at);
  }

  clear(key: object): void {
    this.pending.delete(key);
  }

  get size(): number {
    return this.pending.size;
  }

  private arm(at: number): void {
    this.timer = setTimeout(() => this.fire(), Math.max(0, at - this.clock.now()));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.firing = true;
    const now = this.clock.now();
    try {
      for (const [key, deadline] of this.pending) {
        if (deadline.at > now) {
          this.arm(deadline.at);
          return;
        }
        this.pending.delete(key);
        try {
          deadline.expire();
        } catch (error) {
          // One callback's failure must not strand the deadlines after it: rethrown once they are handled.
          queueMicrotask(() => {
            throw error;
          });
        }
      }
    } finally {
      this.firing = false;
    }
  }
}
