import { Clock } from '../clock';

/**
 * The test clock, for unit and e2e specs alike: time moves only when told to, and a sleep returns at once
 * after noting how long it was asked to wait; with `advanceOnSleep`, the sleep also moves time forward by
 * that much (a waiter's waits become exact, instant time steps). Test-only: tsconfig.build.json leaves
 * every `testing` folder under src/ out of the build.
 */
export class ManualClock extends Clock {
  /** Every wait asked of `sleep`, in order. */
  readonly sleeps: number[] = [];
  /** Called after each sleep, e.g. to abort a waiter at its first wait. */
  onSleep?: (ms: number) => void;

  constructor(
    public time: number,
    private readonly options: { advanceOnSleep?: boolean } = {},
  ) {
    super();
  }

  override now(): number {
    return this.time;
  }

  advance(ms: number): void {
    this.time += ms;
  }

  override async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    if (this.options.advanceOnSleep) this.advance(ms);
    this.onSleep?.(ms);
  }
}

/** The start of a random clock minute far from now, so runs sharing a Redis never share a window. */
export function randomMinute(): number {
  return Date.UTC(2031, 0, 1) + Math.floor(Math.random() * 1_000_000) * 60_000;
}
