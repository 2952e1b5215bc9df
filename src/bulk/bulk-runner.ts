import { pause } from '../common/pause';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Clock } from '../common/clock';
import { GatewayError } from '../common/errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { AuditLog } from '../credits/audit-log';
import { LedgerTransactions } from '../credits/ledger-transactions';
import { ExactlyOnce } from '../idempotency/exactly-once';
import type { AdjustmentRecord, NewAdjustment } from '../idempotency/idempotency-store.port';
import { AdjustmentRepository } from '../journal/adjustment.repository';
import { Lifecycle } from '../lifecycle/lifecycle';
import { UsageChangedPublisher } from '../realtime/usage-changed.publisher';
import { BulkAdjustmentRecord, BulkAdjustmentRepository } from './bulk-adjustment.repository';
import { TransactionPacer } from '../revenuecat/pacing/transaction-pacer';
import { detachedFromRequest, inOwnTrace } from '../tracing/detached';

/** RevenueCat calls an item gets at most (the first and the retries of an UNKNOWN outcome) before its job completes without it; as many again after each retryBulkAdjustment. */
export const MAX_ITEM_ATTEMPTS = 5;
/** Jobs one instance runs at once; they share the bulk budget, so more would only interleave them. */
const MAX_JOBS_PER_INSTANCE = 4;
/** Items of one job sent and not yet answered at once: pacing spaces the sends, this bounds the wait on slow answers. */
const MAX_IN_FLIGHT_PER_JOB = 16;
const BATCH_SIZE = 100;

export const BULK_RUNNER_OPTIONS = Symbol('BulkRunnerOptions');
/** The ExactlyOnce the runner applies items with (over BulkItemStore). */
export const BULK_EXACTLY_ONCE = Symbol('BulkExactlyOnce');

export interface BulkRunnerOptions {
  /**
   * The wait before each pass over a job's items whose outcome is unknown (the last one repeats): growing,
   * so a RevenueCat outage of a minute or two does not use up every item's attempts at once.
   */
  retryPausesMs: readonly number[];
}

export const DEFAULT_BULK_RUNNER_OPTIONS: BulkRunnerOptions = { retryPausesMs: [2_000, 10_000, 30_000, 60_000] };
/** How often a job whose last items are held by another request (a live PENDING lease) looks again. */
const WAIT_FOR_HELD_ITEMS_MS = 1_000;
/** How often an idle instance looks for a job to run, at most (the lease bounds it too). */
const MAX_POLL_MS = 5_000;

interface RunningJob {
  stop: AbortController;
  done: Promise<void>;
}

/** What a job's run learnt from its items. */
interface RunState {
  /** An item turned out CANCELLED: the job was cancelled. */
  cancelled: boolean;
}

/**
 * Runs RUNNING bulk jobs (README "How a job runs"): one instance at a time holds a job's lease (renewed
 * every third of BULK_LEASE_SECONDS; taken over when it runs out). Each item takes the exactly-once path
 * of `adjustCredits` under its own derived key, at the pacer's bulk pace, and an unknown outcome is retried
 * up to MAX_ITEM_ATTEMPTS calls. On shutdown it lets the items in flight finish and hands the job back;
 * the drain waits for that hand-back.
 */
@Injectable()
export class BulkRunner implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Bulk');
  /** This instance, as lease owners are named (never a secret). */
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly jobs = new Map<string, RunningJob>();
  private readonly stopping = new AbortController();
  private readonly leaseMs: number;
  private pollTimer?: NodeJS.Timeout;
  private polling = false;
  private pollAgain = false;

  constructor(
    private readonly repository: BulkAdjustmentRepository,
    private readonly journal: AdjustmentRepository,
    @Inject(BULK_EXACTLY_ONCE) private readonly exactlyOnce: ExactlyOnce,
    private readonly transactions: LedgerTransactions,
    private readonly pacer: TransactionPacer,
    private readonly usageChanged: UsageChangedPublisher,
    private readonly audit: AuditLog,
    private readonly lifecycle: Lifecycle,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(BULK_RUNNER_OPTIONS) private readonly options: BulkRunnerOptions,
  ) {
    this.leaseMs = config.bulk.leaseMs;
  }

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  /** Looks for work now (a job was just started here). */
  wake(): void {
    if (this.polling) this.pollAgain = true;
    else this.schedule(0);
  }

  /** A job cancelled through this instance stops here at once (elsewhere, at its next item or renewal). */
  cancelled(jobId: string): void {
    this.jobs.get(jobId)?.stop.abort(new Error('cancelled'));
  }

  /** The jobs this instance runs right now. */
  get runningJobIds(): string[] {
    return [...this.jobs.keys()];
  }

  /** Before the modules it uses (the ledger, realtime) close: Nest destroys modules nearest the root first. */
  async onModuleDestroy(): Promise<void> {
    this.stopping.abort(new Error('shutting down'));
    clearTimeout(this.pollTimer);
    await Promise.all([...this.jobs.values()].map((job) => job.done));
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted || this.lifecycle.draining;
  }

  private schedule(ms: number): void {
    clearTimeout(this.pollTimer);
    if (this.stopped) return;
    // Woken by the request that started or retried a job, the timer would run every poll after it, and each
    // job and item those find, in that request's trace: the runner's work is nobody's request.
    this.pollTimer = setTimeout(() => void detachedFromRequest(() => this.poll()), ms);
    this.pollTimer.unref();
  }

  private async poll(): Promise<void> {
    this.polling = true;
    try {
      do {
        this.pollAgain = false;
        while (!this.stopped && this.jobs.size < MAX_JOBS_PER_INSTANCE) {
          const job = await this.repository.acquire(this.owner, this.leaseMs);
          if (!job) break;
          this.run(job);
        }
      } while (this.pollAgain && !this.stopped);
    } catch (error) {
      this.logger.warn(`looking for bulk jobs: ${(error as Error).message}`);
    } finally {
      this.polling = false;
      const interval = Math.min(MAX_POLL_MS, this.leaseMs / 2);
      this.schedule(interval * (0.75 + Math.random() * 0.5));
    }
  }

  private run(job: BulkAdjustmentRecord): void {
    const stop = new AbortController();
    const signal = AbortSignal.any([stop.signal, this.stopping.signal, this.lifecycle.drainSignal]);
    this.logger.log({ msg: `running bulk adjustment ${job.id}`, bulkAdjustmentId: job.id, total: job.total });
    // In-flight work: SIGTERM's drain waits until the job is handed back (its lease cleared), not only for its items.
    const done = this.lifecycle
      .track(() => this.work(job, signal, stop))
      .catch((error: Error) => this.logger.warn(`bulk adjustment ${job.id} stopped: ${error.message}`))
      .finally(() => {
        this.jobs.delete(job.id);
        // A slot freed: another job may be waiting.
        if (!this.stopped) this.wake();
      });
    this.jobs.set(job.id, { stop, done });
  }

  /** Holds the lease while the job runs; completes it, or hands it back. */
  private async work(job: BulkAdjustmentRecord, signal: AbortSignal, stop: AbortController): Promise<void> {
    let renewedAt = this.clock.now();
    const renewal = setInterval(() => {
      this.repository.renew(job.id, this.owner, this.leaseMs).then(
        (held) => {
          if (held) renewedAt = this.clock.now();
          else stop.abort(new Error('no longer held'));
        },
        (error: Error) => {
          // Unrenewed, the lease runs out and another instance may take the job: stop before that.
          this.logger.warn(`renewing the lease of bulk adjustment ${job.id}: ${error.message}`);
          if (this.clock.now() - renewedAt >= (this.leaseMs * 2) / 3) stop.abort(new Error('lease not renewed'));
        },
      );
    }, this.leaseMs / 3);
    renewal.unref();
    let completed = false;
    try {
      completed = await this.process(job, signal, stop);
    } finally {
      clearInterval(renewal);
      if (!completed) {
        await this.repository.release(job.id, this.owner).catch((error: Error) => {
          this.logger.warn(`handing bulk adjustment ${job.id} back: ${error.message}; another instance takes it when its lease runs out`);
        });
        this.logger.log({ msg: `bulk adjustment ${job.id} handed back`, bulkAdjustmentId: job.id, reason: String((signal.reason as Error)?.message ?? 'stopped') });
      }
    }
  }

  /** Sends every item that needs it, then completes the job; false when it stopped before that. */
  private async process(job: BulkAdjustmentRecord, signal: AbortSignal, stop: AbortController): Promise<boolean> {
    const inFlight = new Set<Promise<void>>();
    const state: RunState = { cancelled: false };
    const launch = async (item: AdjustmentRecord): Promise<boolean> => {
      if (!(await this.slot(signal))) return false;
      // A small trace per item (its statements, commands and RevenueCat call), found by the job's id.
      const sending = this.lifecycle.track(() =>
        inOwnTrace('bulk item', { 'bulk_adjustment.id': job.id, 'adjustment.id': item.id }, () => this.apply(item, signal, state, stop)),
      );
      inFlight.add(sending);
      void sending.finally(() => inFlight.delete(sending));
      while (inFlight.size >= MAX_IN_FLIGHT_PER_JOB) await Promise.race(inFlight);
      return true;
    };
    const settleAll = () => Promise.all([...inFlight]);
    let retryPass = 0;
    try {
      for (;;) {
        if (signal.aborted) return false;
        // QUEUED items oldest first; the next batch is read while this one is sent, so the sends keep their pace.
        let queued = await this.repository.queuedItems(job.id, null, BATCH_SIZE);
        while (queued.length > 0) {
          const upcoming = this.repository.queuedItems(job.id, queued[queued.length - 1], BATCH_SIZE);
          upcoming.catch(() => undefined); // awaited below, unless the job stops first
          for (const item of queued) if (!(await launch(item))) return false;
          queued = await upcoming;
        }
        await settleAll();
        if (signal.aborted) return false;
        const retries = await this.repository.retryableItems(job.id, MAX_ITEM_ATTEMPTS, BATCH_SIZE);
        if (retries.length > 0) {
          const pauses = this.options.retryPausesMs;
          if (!(await pause(pauses[Math.min(retryPass++, pauses.length - 1)] ?? 0, signal))) return false;
          for (const item of retries) if (!(await launch(item))) return false;
          await settleAll();
          continue;
        }
        const finished = await this.repository.complete(job.id, this.owner, MAX_ITEM_ATTEMPTS);
        if (finished) {
          this.logger.log({ msg: `bulk adjustment ${job.id} completed`, bulkAdjustmentId: job.id, total: finished.total });
          return true;
        }
        if (!(await this.repository.holds(job.id, this.owner))) return false;
        if (!(await pause(WAIT_FOR_HELD_ITEMS_MS, signal))) return false;
      }
    } finally {
      await settleAll();
    }
  }

  /** Waits for a bulk transaction slot; false when the job stops first (nothing taken). */
  private async slot(signal: AbortSignal): Promise<boolean> {
    try {
      await this.pacer.takeBulk(signal);
      return !signal.aborted;
    } catch {
      return false;
    }
  }

  private announce(record: AdjustmentRecord): void {
    this.usageChanged.announce({
      id: record.id,
      userId: record.userId,
      currency: record.currency,
      amount: record.amount,
      balance: record.balance ?? 0,
      adjustedAt: record.settledAt ?? new Date(this.clock.now()),
    });
  }

  /** One item, exactly once under its key; its usage.changed once, by whichever attempt applied it. */
  private async apply(item: AdjustmentRecord, signal: AbortSignal, state: RunState, stop: AbortController): Promise<void> {
    try {
      const { record, announce, replayed } = await this.exactlyOnce.run({
        record: asNewAdjustment(item),
        // Items were checked when they were added; the job's currency when it was created.
        prepare: async () => undefined,
        apply: (claimed) => this.transactions.apply(claimed, { pacing: 'bulk', signal }),
        settledLater: (settled) => {
          if (settled.status === 'APPLIED') this.announce(settled);
        },
      });
      if (announce) this.announce(record);
      this.audited(record, replayed ? 'replayed' : 'applied', record.balance ?? undefined);
    } catch (error) {
      const code = error instanceof GatewayError ? error.code : 'internal_error';
      if (code === 'dependency_unavailable') {
        // Nothing was sent; the item stays as it was and the next pass (or instance) takes it.
        stop.abort(error);
        return;
      }
      if (code === 'idempotency_key_in_progress') return;
      const current = await this.journal.findById(item.id).catch(() => null);
      if (current?.status === 'CANCELLED') {
        if (!state.cancelled) this.logger.log({ msg: 'bulk adjustment cancelled; stopping', bulkAdjustmentId: item.bulkAdjustmentId });
        state.cancelled = true;
        stop.abort(new Error('cancelled'));
        return;
      }
      this.audited(item, code);
    }
  }

  private audited(record: AdjustmentRecord, outcome: string, balance?: number): void {
    this.audit.record({
      actor: record.actorName,
      operatorId: record.actorOperatorId,
      role: record.actorRole,
      onBehalfOf: record.actorOnBehalfOf,
      userId: record.userId,
      currency: record.currency,
      amount: record.amount,
      reason: record.reason,
      idempotencyKey: record.idempotencyKey,
      outcome,
      replayed: outcome === 'replayed',
      adjustmentId: record.id,
      ...(balance === undefined ? {} : { balance }),
    });
  }
}

/** The stored item as the exactly-once protocol's record: the same key and fingerprint, so its claim takes the row over. */
function asNewAdjustment(item: AdjustmentRecord): NewAdjustment {
  return {
    id: item.id,
    idempotencyKey: item.idempotencyKey,
    fingerprint: item.fingerprint,
    userId: item.userId,
    currency: item.currency,
    amount: item.amount,
    reason: item.reason,
    upstreamKey: item.upstreamKey,
    actorOperatorId: item.actorOperatorId,
    actorName: item.actorName,
    actorRole: item.actorRole,
    actorOnBehalfOf: item.actorOnBehalfOf,
    bulkAdjustmentId: item.bulkAdjustmentId,
    createdAt: item.createdAt,
  };
}
