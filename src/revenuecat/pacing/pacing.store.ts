/** RevenueCat counts transactions per minute; every budget here is over the last 60 s (a sliding window). */
export const PACING_WINDOW_MS = 60_000;

/** The numbers every take is judged by, derived from the configuration (and from what RevenueCat reports). */
export interface PacingLimits {
  /** Transactions of every caller in any 60 s. */
  budget: number;
  /** Bulk transactions a minute: BULK_SHARE_PERCENT of the budget (not rounded). */
  bulkPerMinute: number;
  /** One bulk slot every this many ms, whichever instance takes it. */
  bulkIntervalMs: number;
  /**
   * Bulk takes a slot only while the last 60 s hold fewer transactions than this: the rest of the
   * budget (a second's worth, at most the interactive share) is always free for an interactive call.
   */
  bulkCeiling: number;
  /**
   * A bulk taker late by less than this keeps the schedule (the next slot stays where it was), so timer
   * lateness does not slow bulk below its rate; two slots are never closer than the interval minus this.
   */
  catchUpMs: number;
}

export function pacingLimits(transactionsPerMinute: number, bulkSharePercent: number): PacingLimits {
  const budget = transactionsPerMinute;
  const bulkPerMinute = (budget * bulkSharePercent) / 100;
  const bulkIntervalMs = PACING_WINDOW_MS / bulkPerMinute;
  const headroom = Math.min(Math.ceil(budget / 60), Math.floor(budget - bulkPerMinute));
  return { budget, bulkPerMinute, bulkIntervalMs, bulkCeiling: budget - headroom, catchUpMs: bulkIntervalMs / 10 };
}

export interface InteractiveTake {
  /** Whether this transaction fits in the budget of the last 60 s (it is counted either way). */
  withinBudget: boolean;
  /** How long bulk stays paused (a RevenueCat 429 or a nearly used-up window); 0 when it is not. */
  pausedForMs: number;
}

/** Where the budget is kept: Redis for every instance, or this instance's memory. */
export interface PacingStore {
  /** Takes a bulk slot now and answers 0, or answers how long to wait before asking again. */
  takeBulk(now: number, limits: PacingLimits, member: string): Promise<number>;
  /** Counts an interactive transaction now; never refuses, never waits. */
  takeInteractive(now: number, limits: PacingLimits, member: string): Promise<InteractiveTake>;
  /** Bulk takes nothing before `until` (a later pause already set stays). */
  pauseUntil(until: number, now: number): Promise<void>;
}

/**
 * One instance's budget: the whole of it when Redis is not configured, or while Redis does not answer.
 * While Redis answers, it mirrors what this instance took there, so a fallback starts from this
 * instance's recent history instead of an empty minute (no burst at the switch).
 */
export class MemoryPacingStore implements PacingStore {
  /** When each transaction of the last 60 s was taken, oldest first. */
  private readonly taken: number[] = [];
  /** When the next bulk slot is due (GCRA's theoretical arrival time). */
  private nextBulkAt = 0;
  private pausedUntil = 0;

  async takeBulk(now: number, limits: PacingLimits): Promise<number> {
    if (this.pausedUntil > now) return this.pausedUntil - now;
    if (this.nextBulkAt > now) return this.nextBulkAt - now;
    this.expire(now);
    if (this.taken.length >= limits.bulkCeiling) {
      return this.taken[this.taken.length - limits.bulkCeiling] + PACING_WINDOW_MS - now;
    }
    this.record('bulk', now, limits);
    return 0;
  }

  async takeInteractive(now: number, limits: PacingLimits): Promise<InteractiveTake> {
    this.expire(now);
    const withinBudget = this.taken.length < limits.budget;
    this.record('interactive', now, limits);
    return { withinBudget, pausedForMs: this.pausedForMs(now) };
  }

  async pauseUntil(until: number): Promise<void> {
    this.pausedUntil = Math.max(this.pausedUntil, until);
  }

  pausedForMs(now: number): number {
    return Math.max(0, this.pausedUntil - now);
  }

  /** Until this instance's next bulk slot by its own schedule. */
  bulkDueInMs(now: number): number {
    return Math.max(0, this.nextBulkAt - now);
  }

  /** Counts a transaction taken now (here, or in Redis while it answers). */
  record(kind: 'bulk' | 'interactive', now: number, limits: PacingLimits): void {
    this.expire(now);
    this.taken.push(now);
    if (kind === 'bulk') this.nextBulkAt = nextSlot(this.nextBulkAt, now, limits);
  }

  private expire(now: number): void {
    let stale = 0;
    while (stale < this.taken.length && this.taken[stale] <= now - PACING_WINDOW_MS) stale++;
    if (stale > 0) this.taken.splice(0, stale);
  }
}

/** The slot after one taken at `now` that was due at `due`: on the schedule unless the taker was idle. Mirrors the Lua. */
function nextSlot(due: number, now: number, limits: PacingLimits): number {
  const base = now - due > limits.bulkIntervalMs ? now : Math.max(due, now - limits.catchUpMs);
  return base + limits.bulkIntervalMs;
}
