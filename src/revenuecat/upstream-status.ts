import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';

export interface UpstreamSighting {
  reachable: boolean;
  at: string;
  detail: string;
}

/**
 * RevenueCat's reachability as last seen by real calls, so readiness never costs an upstream call.
 * Any HTTP answer below 500 counts as reachable (a 404 is RevenueCat answering); timeouts, dropped
 * connections and 5xx do not.
 */
@Injectable()
export class UpstreamStatus {
  private last?: UpstreamSighting;

  constructor(private readonly clock: Clock) {}

  record(reachable: boolean, detail: string): void {
    this.last = { reachable, at: new Date(this.clock.now()).toISOString(), detail };
  }

  get lastSeen(): UpstreamSighting | undefined {
    return this.last;
  }
}
