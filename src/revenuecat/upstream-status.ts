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
  private reachable = false;
  private atMs?: number;
  private detail = '';

  constructor(private readonly clock: Clock) {}

  /** Called on every upstream answer: kept as it comes, formatted only when readiness asks. */
  record(reachable: boolean, detail: string): void {
    this.reachable = reachable;
    this.atMs = this.clock.now();
    this.detail = detail;
  }

  get lastSeen(): UpstreamSighting | undefined {
    if (this.atMs === undefined) return undefined;
    return { reachable: this.reachable, at: new Date(this.atMs).toISOString(), detail: this.detail };
  }
}
