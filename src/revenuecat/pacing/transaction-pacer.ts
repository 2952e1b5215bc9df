import { Inject, Injectable, Logger, Provider } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import { Clock } from '../../common/clock';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { REDIS_CLIENT } from '../../redis/redis.module';
import { RedisHealth } from '../../redis/redis-health';
import type { RevenueCatRateLimitReport, TransactionPacing } from '../transaction-pacing.port';
import { InteractiveTake, MemoryPacingStore, PACING_WINDOW_MS, PacingLimits, pacingLimits } from './pacing.store';
import { PACING_KEY_PREFIX, RedisPacingStore } from './redis-pacing.store';

export type { RevenueCatRateLimitReport };

export const TRANSACTION_PACER_OPTIONS = Symbol('TransactionPacerOptions');

export interface TransactionPacerOptions {
  /** REVENUECAT_TRANSACTIONS_PER_MINUTE */
  transactionsPerMinute: number;
  /** BULK_SHARE_PERCENT */
  bulkSharePercent: number;
  /** Where the shared state lives in Redis (tests use one of their own). */
  keyPrefix?: string;
}

export interface PacerStatus {
  shared: boolean;
  transactionsPerMinute: number;
  bulkPerMinute: number;
  bulkIntervalMs: number;
  bulkPausedForMs: number;
}

/** A bulk waiter asks again at least this often, so a pause, a budget change or Redis's return is seen. */
const MAX_WAIT_STEP_MS = 1000;

/** A Retry-After longer than this is taken as a broken header, not as a reason to stop bulk jobs for hours. */
export const MAX_PAUSE_MS = 5 * 60_000;

/**
 * One budget of REVENUECAT_TRANSACTIONS_PER_MINUTE in any 60 s for every RevenueCat transaction of every
 * instance (through Redis; this instance alone while Redis is away). Interactive calls are counted, never
 * delayed; bulk items wait for evenly spaced slots of their share and yield when the window is nearly
 * full; a 429 or RevenueCat's rate-limit headers pause bulk everywhere. docs/decisions.md, "The pacer".
 */
@Injectable()
export class TransactionPacer implements TransactionPacing {
  private readonly logger = new Logger('Pacing');
  private readonly local = new MemoryPacingStore();
  private readonly shared: RedisPacingStore | null;
  private readonly instance = randomBytes(6).toString('hex');
  private sequence = 0;
  private fallingBack = false;
  private limits: PacingLimits;
  /** RevenueCat's own limit, when it reported one below the configured budget. */
  private reportedLimit?: number;

  constructor(
    @Inject(REDIS_CLIENT) redis: Redis | null,
    private readonly redisHealth: RedisHealth,
    private readonly clock: Clock,
    @Inject(TRANSACTION_PACER_OPTIONS) private readonly options: TransactionPacerOptions,
  ) {
    this.shared = redis ? new RedisPacingStore(redis, options.keyPrefix ?? PACING_KEY_PREFIX) : null;
    this.limits = pacingLimits(options.transactionsPerMinute, options.bulkSharePercent);
  }

  /**
   * Counts one interactive transaction, at once. It is never refused here: `withinBudget: false` says
   * the last 60 s already hold the whole budget (the caller may still send it and let RevenueCat's 429
   * handling apply); `pausedForMs` says bulk is paused after a 429.
   */
  async takeInteractive(): Promise<InteractiveTake> {
    const now = this.clock.now();
    const member = this.nextMember();
    const take = await this.withStore(
      async (store) => {
        const shared = await store.takeInteractive(now, this.limits, member);
        this.local.record('interactive', now, this.limits);
        return shared;
      },
      () => this.local.takeInteractive(this.clock.now(), this.limits),
    );
    return { withinBudget: take.withinBudget, pausedForMs: Math.max(take.pausedForMs, this.local.pausedForMs(now)) };
  }

  /**
   * Resolves when a bulk transaction may be sent now (the slot is taken: send exactly one), with the
   * clock time the slot was granted at. Rejects with the signal's reason once `signal` aborts, having
   * taken nothing.
   */
  async takeBulk(signal?: AbortSignal): Promise<number> {
    for (;;) {
      signal?.throwIfAborted();
      const { waitMs, at } = await this.tryBulk(this.clock.now());
      if (waitMs <= 0) return at;
      await this.sleep(Math.min(Math.max(1, Math.ceil(waitMs)), MAX_WAIT_STEP_MS), signal);
    }
  }

  /** No bulk transaction on any instance for `ms` (a RevenueCat 429's Retry-After). */
  async pause(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms <= 0) return;
    const now = this.clock.now();
    const until = now + Math.min(ms, MAX_PAUSE_MS);
    await this.local.pauseUntil(until);
    await this.withStore(
      (store) => store.pauseUntil(until, now),
      async () => undefined,
    );
  }

  /** Takes in RevenueCat's rate-limit headers from a transaction's answer. */
  async observe(report: RevenueCatRateLimitReport): Promise<void> {
    const limit = wholeNumber(report.limit);
    if (limit !== undefined && limit >= 1) this.adoptLimit(limit);
    const usage = wholeNumber(report.usage);
    const remaining = wholeNumber(report.remaining) ?? (limit !== undefined && usage !== undefined ? limit - usage : undefined);
    if (remaining === undefined || remaining > this.limits.budget - this.limits.bulkCeiling) return;
    const now = this.clock.now();
    const resetSeconds = wholeNumber(report.resetSeconds);
    await this.pause(resetSeconds !== undefined ? resetSeconds * 1000 : PACING_WINDOW_MS - (now % PACING_WINDOW_MS));
  }

  get status(): PacerStatus {
    return {
      shared: this.shared !== null && !this.fallingBack,
      transactionsPerMinute: this.limits.budget,
      bulkPerMinute: this.limits.bulkPerMinute,
      bulkIntervalMs: this.limits.bulkIntervalMs,
      bulkPausedForMs: this.local.pausedForMs(this.clock.now()),
    };
  }

  /** A slot taken at `at` (waitMs 0), or how long to wait before asking again. */
  private async tryBulk(now: number): Promise<{ waitMs: number; at: number }> {
    const pausedForMs = this.local.pausedForMs(now);
    if (pausedForMs > 0) return { waitMs: pausedForMs, at: now };
    // Back from a fallback, Redis has not seen the slots this instance took alone: keep their spacing.
    const ownDueInMs = this.fallingBack ? this.local.bulkDueInMs(now) : 0;
    if (ownDueInMs > 0) return { waitMs: ownDueInMs, at: now };
    const member = this.nextMember();
    return this.withStore(
      async (store) => {
        const waitMs = await store.takeBulk(now, this.limits, member);
        if (waitMs <= 0) this.local.record('bulk', now, this.limits);
        return { waitMs, at: now };
      },
      async () => {
        // Now, not when Redis was asked: a failed command may have taken up to its timeout.
        const at = this.clock.now();
        return { waitMs: await this.local.takeBulk(at, this.limits), at };
      },
    );
  }

  /** RevenueCat's limit wins when it is lower than the configured budget; never raises it. */
  private adoptLimit(limit: number): void {
    const lower = limit < this.options.transactionsPerMinute ? limit : undefined;
    if (lower === this.reportedLimit) return;
    this.reportedLimit = lower;
    this.limits = pacingLimits(lower ?? this.options.transactionsPerMinute, this.options.bulkSharePercent);
    if (lower !== undefined) {
      this.logger.warn(
        `RevenueCat reports ${lower} transactions a minute, below REVENUECAT_TRANSACTIONS_PER_MINUTE (${this.options.transactionsPerMinute}); pacing to ${lower}`,
      );
    } else {
      this.logger.log(`pacing to REVENUECAT_TRANSACTIONS_PER_MINUTE (${this.options.transactionsPerMinute}) again`);
    }
  }

  /** Redis while it answers, this instance's memory while it does not (said once per outage). */
  private async withStore<T>(shared: (store: RedisPacingStore) => Promise<T>, local: () => Promise<T>): Promise<T> {
    if (this.shared && this.redisHealth.usable) {
      try {
        const result = await shared(this.shared);
        if (this.fallingBack) {
          this.fallingBack = false;
          this.logger.log('RevenueCat pacing: shared through Redis again');
        }
        return result;
      } catch (error) {
        this.redisHealth.commandFailed();
        this.fallBack((error as Error).message);
      }
    } else if (this.shared) {
      this.fallBack('connection down');
    }
    return local();
  }

  private fallBack(reason: string): void {
    if (this.fallingBack) return;
    this.fallingBack = true;
    this.logger.warn(`RevenueCat pacing: Redis does not answer (${reason}); pacing this instance alone until it does`);
  }

  private nextMember(): string {
    this.sequence += 1;
    return `${this.instance}:${this.sequence}`;
  }

  private sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (!signal) return this.clock.sleep(ms);
    return new Promise<void>((resolve, reject) => {
      const aborted = (): void => reject(signal.reason);
      signal.addEventListener('abort', aborted, { once: true });
      void this.clock.sleep(ms).then(() => {
        signal.removeEventListener('abort', aborted);
        resolve();
      });
    });
  }
}

function wholeNumber(value: number | undefined): number | undefined {
  return value !== undefined && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/** The pacer with its options from AppConfig; REDIS_CLIENT, RedisHealth and Clock come from their global modules. */
export const TRANSACTION_PACER_PROVIDERS: Provider[] = [
  {
    provide: TRANSACTION_PACER_OPTIONS,
    inject: [APP_CONFIG],
    useFactory: (config: AppConfig): TransactionPacerOptions => ({
      transactionsPerMinute: config.pacing.transactionsPerMinute,
      bulkSharePercent: config.pacing.bulkSharePercent,
    }),
  },
  TransactionPacer,
];
