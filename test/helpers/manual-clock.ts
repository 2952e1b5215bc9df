import { Clock } from '../../src/common/clock';

/** A clock that moves only when told to; sleeps pass at once. */
export class ManualClock extends Clock {
  constructor(public time: number) {
    super();
  }

  override now(): number {
    return this.time;
  }

  advance(ms: number): void {
    this.time += ms;
  }

  override async sleep(): Promise<void> {}
}

/** The start of a random clock minute far from now, so runs sharing a Redis never share a window. */
export function randomMinute(): number {
  return Date.UTC(2031, 0, 1) + Math.floor(Math.random() * 1_000_000) * 60_000;
}
