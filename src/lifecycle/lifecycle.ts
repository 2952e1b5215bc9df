import { Injectable } from '@nestjs/common';

/** A count of unfinished things, and a bounded wait for it to reach zero. */
export class InFlight {
  private count = 0;
  private readonly idleWaiters = new Set<() => void>();

  get size(): number {
    return this.count;
  }

  begin(): void {
    this.count += 1;
  }

  end(finished = 1): void {
    if (finished <= 0) return;
    this.count -= finished;
    if (this.count === 0) for (const resolve of this.idleWaiters) resolve();
  }

  /** Runs `work` as one unfinished thing until it settles. */
  async track<T>(work: () => Promise<T>): Promise<T> {
    this.begin();
    try {
      return await work();
    } finally {
      this.end();
    }
  }

  /** Resolves true once nothing is unfinished, or false when `timeoutMs` passes first. */
  async whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return true;
    return new Promise<boolean>((resolve) => {
      const done = (idle: boolean) => {
        clearTimeout(timer);
        this.idleWaiters.delete(onIdle);
        resolve(idle);
      };
      const onIdle = () => done(true);
      const timer = setTimeout(() => done(false), Math.max(0, timeoutMs));
      this.idleWaiters.add(onIdle);
    });
  }
}

/**
 * Whether this instance is still taking work, and what shutdown must let finish: the adjustments in
 * flight (with the publishing of their usage.changed events), then the events handed to this
 * instance's subscribers and not yet written to their connections.
 */
@Injectable()
export class Lifecycle {
  private isDraining = false;
  private readonly drain = new AbortController();
  readonly adjustments = new InFlight();
  readonly deliveries = new InFlight();

  get draining(): boolean {
    return this.isDraining;
  }

  /** Aborted when draining starts: long-running work (a bulk job's runner) takes no further step. */
  get drainSignal(): AbortSignal {
    return this.drain.signal;
  }

  startDraining(): void {
    this.isDraining = true;
    this.drain.abort(new Error('shutting down'));
  }

  /** Runs `work` as in-flight work that shutdown waits for. */
  track<T>(work: () => Promise<T>): Promise<T> {
    return this.adjustments.track(work);
  }
}
