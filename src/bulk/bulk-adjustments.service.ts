import { Injectable, Logger } from '@nestjs/common';
import type { Actor } from '../common/actor';
import { Errors } from '../common/errors';
import { IdGenerator } from '../common/id-generator';
import { MAX_BULK_ITEMS, type BulkAdjustmentStatus } from '../database/bulk.schema';
import type { AdjustmentStatus } from '../database/journal.schema';
import { AdjustmentPage, AdjustmentRepository } from '../journal/adjustment.repository';
import { LedgerTransactions } from '../credits/ledger-transactions';
import { BulkAdjustmentRecord, BulkAdjustmentRepository, ItemCounts, NO_ITEMS } from './bulk-adjustment.repository';
import { jobFingerprint, newItemRecord } from './bulk-item';
import { BulkRunner } from './bulk-runner';
import { TransactionPacer } from '../revenuecat/pacing/transaction-pacer';

/** Items one addBulkAdjustmentItems call may carry. */
export const MAX_ITEMS_PER_CALL = 500;
/** The pace etaSeconds extrapolates: items settled over the last this many ms. */
const PACE_WINDOW_MS = 30_000;
/** Fewer settled items than this, or a shorter window, and the pacer's nominal bulk rate is the pace. */
const MIN_PACE_SAMPLE = 5;
const MIN_PACE_WINDOW_MS = 2_000;

/** A job as the API answers it (GraphQL `BulkAdjustment`, without its paged items). */
export interface BulkAdjustmentView extends ItemCounts {
  id: string;
  currency: string;
  reason: string;
  status: BulkAdjustmentStatus;
  createdBy: Actor;
  total: number;
  /** RUNNING: seconds until its items are sent at the current pace; null otherwise. */
  etaSeconds: number | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface NewBulkAdjustmentRequest {
  currency: string;
  /** Trimmed. */
  reason: string;
  idempotencyKey: string | null;
  createdBy: Actor;
}

export interface BulkAdjustmentItem {
  userId: string;
  amount: number;
}

export function isFinished(status: BulkAdjustmentStatus): boolean {
  return status === 'COMPLETED' || status === 'CANCELLED';
}

/**
 * Bulk adjustment jobs (README "Bulk adjustments"): DRAFT, items added, started, run by BulkRunner on
 * whichever instance holds it, until COMPLETED or CANCELLED.
 */
@Injectable()
export class BulkAdjustmentsService {
  private readonly logger = new Logger('Bulk');

  constructor(
    private readonly jobs: BulkAdjustmentRepository,
    private readonly journal: AdjustmentRepository,
    private readonly transactions: LedgerTransactions,
    private readonly pacer: TransactionPacer,
    private readonly runner: BulkRunner,
    private readonly ids: IdGenerator,
  ) {}

  /** A DRAFT job; with a key already used for the same currency and reason, that job (whatever its state). */
  async create(request: NewBulkAdjustmentRequest): Promise<BulkAdjustmentView> {
    const fingerprint = jobFingerprint(request);
    if (request.idempotencyKey !== null) {
      const existing = await this.jobs.findByIdempotencyKey(request.idempotencyKey);
      if (existing) {
        if (existing.fingerprint !== fingerprint) throw Errors.idempotencyKeyReused();
        return this.view(existing);
      }
    }
    await this.transactions.requireCurrency(request.currency);
    const created = await this.jobs.create({
      id: `bulk_${this.ids.uuid().replace(/-/g, '')}`,
      idempotencyKey: request.idempotencyKey,
      fingerprint,
      currency: request.currency,
      reason: request.reason,
      createdBy: request.createdBy,
    });
    if (created.kind === 'mismatch') throw Errors.idempotencyKeyReused();
    if (created.kind === 'created') {
      this.logger.log({ msg: 'bulk adjustment created', bulkAdjustmentId: created.job.id, currency: created.job.currency, actor: request.createdBy.name });
    }
    return this.view(created.job);
  }

  /** 1 to 500 items (already validated one by one), all or none; a user at most once per job. */
  async addItems(id: string, items: readonly BulkAdjustmentItem[]): Promise<BulkAdjustmentView> {
    if (items.length < 1 || items.length > MAX_ITEMS_PER_CALL) {
      throw Errors.invalidArgument('items', `must hold 1 to ${MAX_ITEMS_PER_CALL} items`);
    }
    const seen = new Map<string, number>();
    items.forEach((item, index) => {
      const first = seen.get(item.userId);
      if (first !== undefined) throw duplicateUser(index, `the same as items[${first}]`);
      seen.set(item.userId, index);
    });
    const job = await this.jobs.findById(id);
    if (!job) throw Errors.notFound('id');
    if (job.status !== 'DRAFT') throw notDraft(job, 'items can only be added to a DRAFT bulk adjustment');
    const result = await this.jobs.addItems(
      id,
      items.map((item) => newItemRecord(job, item)),
    );
    switch (result.kind) {
      case 'not_found':
        throw Errors.notFound('id');
      case 'not_draft':
        throw notDraft(result.job, 'items can only be added to a DRAFT bulk adjustment');
      case 'too_many':
        throw Errors.invalidArgument('items', `would take the bulk adjustment past ${MAX_BULK_ITEMS} items (it holds ${result.job.total})`);
      case 'duplicate':
        throw duplicateUser(result.index, 'already in this bulk adjustment');
      case 'added':
        return this.view(result.job);
    }
  }

  async start(id: string): Promise<BulkAdjustmentView> {
    const result = await this.jobs.start(id);
    if (result.kind === 'not_found') throw Errors.notFound('id');
    if (result.kind === 'refused') {
      throw result.job.status === 'DRAFT'
        ? Errors.invalidState('a bulk adjustment with no items cannot start')
        : notDraft(result.job, 'only a DRAFT bulk adjustment can start');
    }
    this.logger.log({ msg: 'bulk adjustment started', bulkAdjustmentId: id, total: result.job.total });
    this.runner.wake();
    return this.view(result.job);
  }

  /** A DRAFT or RUNNING job stops; its unsent items end CANCELLED. Cancelling a CANCELLED job answers it as it is. */
  async cancel(id: string): Promise<BulkAdjustmentView> {
    const result = await this.jobs.cancel(id);
    if (result.kind === 'not_found') throw Errors.notFound('id');
    if (result.kind === 'refused' && result.job.status !== 'CANCELLED') {
      throw Errors.invalidState(`a ${result.job.status} bulk adjustment cannot be cancelled`);
    }
    if (result.kind === 'done') {
      this.logger.log({ msg: 'bulk adjustment cancelled', bulkAdjustmentId: id });
      this.runner.cancelled(id);
    }
    return this.view(result.job);
  }

  /**
   * A COMPLETED job's UNKNOWN items go back to its runner: the job is RUNNING again until they are sent
   * once more under their keys (RevenueCat replays or applies each, never twice). Their keys are the job's
   * alone, so this is the only way to settle them.
   */
  async retry(id: string, actor: Actor): Promise<BulkAdjustmentView> {
    const result = await this.jobs.retry(id);
    switch (result.kind) {
      case 'not_found':
        throw Errors.notFound('id');
      case 'refused':
        throw Errors.invalidState(`only a COMPLETED bulk adjustment can be retried; this one is ${result.job.status}`);
      case 'nothing_unknown':
        throw Errors.invalidState('this bulk adjustment has no UNKNOWN items to retry');
      case 'done':
        this.logger.log({ msg: 'bulk adjustment retried', bulkAdjustmentId: id, actor: actor.name });
        this.runner.wake();
        return this.view(result.job);
    }
  }

  async get(id: string): Promise<BulkAdjustmentView | null> {
    const job = await this.jobs.findById(id);
    return job && this.view(job);
  }

  async list(first: number, after?: string | null): Promise<{ nodes: BulkAdjustmentView[]; endCursor: string | null; hasNextPage: boolean }> {
    const page = await this.jobs.list(first, after);
    return { ...page, nodes: await this.views(page.nodes) };
  }

  /** A job's items (journal records), newest first like the journal, optionally of one status. */
  items(id: string, status: AdjustmentStatus | null, first: number, after?: string | null): Promise<AdjustmentPage> {
    return this.journal.list({ bulkAdjustmentId: id, status: status === null ? undefined : [status] }, first, after);
  }

  async view(job: BulkAdjustmentRecord): Promise<BulkAdjustmentView> {
    const [view] = await this.views([job]);
    return view;
  }

  private async views(jobs: BulkAdjustmentRecord[]): Promise<BulkAdjustmentView[]> {
    const counts = await this.jobs.counts(jobs.map((job) => job.id));
    return Promise.all(
      jobs.map(async (job) => {
        const items = counts.get(job.id) ?? NO_ITEMS;
        return toView(job, items, job.status === 'RUNNING' ? await this.etaSeconds(job, items) : null);
      }),
    );
  }

  /** The job's queued items over its recent pace, or over the bulk budget's rate before there is one. */
  private async etaSeconds(job: BulkAdjustmentRecord, items: ItemCounts): Promise<number> {
    if (items.queued === 0) return 0;
    const { settled, overMs } = await this.jobs.recentPace(job, PACE_WINDOW_MS);
    const msPerItem = settled >= MIN_PACE_SAMPLE && overMs >= MIN_PACE_WINDOW_MS ? overMs / settled : this.pacer.status.bulkIntervalMs;
    return Math.ceil((items.queued * msPerItem) / 1000);
  }
}

function toView(job: BulkAdjustmentRecord, items: ItemCounts, etaSeconds: number | null): BulkAdjustmentView {
  return {
    id: job.id,
    currency: job.currency,
    reason: job.reason,
    status: job.status,
    createdBy: { operatorId: job.createdByOperatorId, name: job.createdByName, role: job.createdByRole, onBehalfOf: job.createdByOnBehalfOf },
    total: job.total,
    ...items,
    etaSeconds,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
  };
}

function duplicateUser(index: number, problem: string) {
  return Errors.invalidArgument('userId', `of items[${index}] is ${problem}`);
}

function notDraft(job: BulkAdjustmentRecord, problem: string) {
  return Errors.invalidState(`${problem}; this one is ${job.status}`);
}
