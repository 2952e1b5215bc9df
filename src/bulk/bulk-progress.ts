import { Logger } from '@nestjs/common';
import { BulkAdjustmentView, isFinished } from './bulk-adjustments.service';

/** A progress subscriber hears at most this often (the README promises at most once a second). */
export const PROGRESS_INTERVAL_MS = 1_000;

type Sleep = (ms: number) => Promise<void>;

/**
 * `bulkAdjustmentProgress`: the job's state on subscribe, then its state each time it changed (read from
 * the database at most once a second, so a job running on another instance is followed just the same),
 * and its final state once it ends, after which the stream completes. Unsubscribing (graphql-ws calls
 * `return`) stops it at once, also in the middle of a wait.
 */
export class BulkProgressStream implements AsyncIterableIterator<BulkAdjustmentView> {
  private readonly logger = new Logger('Bulk');
  private last?: BulkAdjustmentView;
  private closed = false;
  private wake?: () => void;

  constructor(
    private readonly first: BulkAdjustmentView,
    private readonly read: () => Promise<BulkAdjustmentView | null>,
    private readonly intervalMs = PROGRESS_INTERVAL_MS,
  ) {}

  [Symbol.asyncIterator](): AsyncIterableIterator<BulkAdjustmentView> {
    return this;
  }

  async next(): Promise<IteratorResult<BulkAdjustmentView>> {
    if (this.closed) return { done: true, value: undefined };
    if (!this.last) return this.emit(this.first);
    while (!isFinished(this.last.status)) {
      await this.sleep(this.intervalMs);
      if (this.closed) return { done: true, value: undefined };
      let current: BulkAdjustmentView | null;
      try {
        current = await this.read();
      } catch (error) {
        // The database away for a moment: the subscriber hears nothing new until it is back.
        this.logger.warn(`bulk adjustment progress of ${this.first.id}: ${(error as Error).message}`);
        continue;
      }
      if (this.closed || current === null) break;
      if (changed(this.last, current)) return this.emit(current);
    }
    return this.return();
  }

  async return(): Promise<IteratorResult<BulkAdjustmentView>> {
    this.closed = true;
    this.wake?.();
    return { done: true, value: undefined };
  }

  async throw(error: unknown): Promise<IteratorResult<BulkAdjustmentView>> {
    await this.return();
    throw error;
  }

  private emit(view: BulkAdjustmentView): IteratorResult<BulkAdjustmentView> {
    this.last = view;
    return { done: false, value: view };
  }

  private sleep: Sleep = (ms) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
}

/** What a subscriber follows: the state and the counts (not the estimate, which moves with the clock). */
function changed(before: BulkAdjustmentView, after: BulkAdjustmentView): boolean {
  return (
    before.status !== after.status ||
    before.total !== after.total ||
    before.queued !== after.queued ||
    before.applied !== after.applied ||
    before.rejected !== after.rejected ||
    before.unknown !== after.unknown ||
    before.cancelled !== after.cancelled
  );
}
