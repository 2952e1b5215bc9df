import { Injectable } from '@nestjs/common';

/**
 * Whether this instance is still taking work, and the adjustments it has in flight. On shutdown it
 * stops taking new work (readiness fails, new requests are refused), then waits for what is in flight.
 */
@Injectable()
export class Lifecycle {
  private isDraining = false;
  private inFlight = 0;
  private readonly idleWaiters = new Set<() => void>();

  get draining(): boolean {
    return this.isDraining;
  }

  get inFlightCount(): number {
    return this.inFlight;
  }

  startDraining(): void {
    this.isDraining = true;
  }

  /** Runs `work` as in-flight work that shutdown waits for. */
  async track<T>(work: () => Promise<T>): Promise<T> {
    this.inFlight += 1;
    try {
      return await work();
    } finally {
      this.inFlight -= 1;
      if (this.inFlight === 0) for (const resolve of this.idleWaiters) resolve();
    }
  }

  /** Resolves true once nothing is in flight, or false when `timeoutMs` passes first. */
  async whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return true;
    return new Promise<boolean>((resolve) => {
      const done = (idle: boolean) => {
        clearTimeout(timer);
        this.idleWaiters.delete(onIdle);
        resolve(idle);
      };
      const onIdle = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.idleWaiters.add(onIdle);
    });
  }
}
