import { Injectable } from '@nestjs/common';

/** Time as a dependency, so tests can control waits and timestamps. */
@Injectable()
export class Clock {
  now(): number {
    return Date.now();
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}
