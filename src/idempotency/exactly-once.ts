import { pause } from '../common/pause';
import { Inject, Injectable, Logger, OnModuleDestroy, Optional } from '@nestjs/common';
import { ErrorCode, ErrorDetails, Errors, GatewayError } from '../common/errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { isDatabaseUnavailable } from '../database/database-errors';
import { Lifecycle } from '../lifecycle/lifecycle';
import { Metrics } from '../metrics/metrics';
import { detachedFromRequest } from '../tracing/detached';
import { sameOwner } from '../journal/adjustment.repository';
import { AdjustmentRecord, ClaimResult, IdempotencyStore, NewAdjustment, Outcome } from './idempotency-store.port';

/** What became of the one RevenueCat transaction a record guards. */
export type Attempt =
  | { status: 'APPLIED'; balance: number; balances: Array<{ currency: string; name: string | null; balance: number }> }
  /** A definitive refusal: stored, and replayed as exactly this error. */
  | { status: 'REJECTED'; error: GatewayError }
  /** Ambiguous: RevenueCat may or may not have applied it; a retry with the same key settles it. */
  | { status: 'UNKNOWN'; error: GatewayError };

export interface OnceOnly {
  /** The record to write PENDING before anything is sent (its key, fingerprint, who, what). */
  record: NewAdjustment;
  /** Checks made before the first attempt only (a new key); a failure writes nothing. */
  prepare(): Promise<void>;
  /** The transaction itself, sent with the record's upstream key, reporting what became of it. */
  apply(record: AdjustmentRecord): Promise<Attempt>;
  /**
   * Claims the key when the claim may send: a key the journal did not hold when asked (after `prepare`),
   * or `existing`, a record of the same request that is not settled (UNKNOWN, or PENDING, whose lease may
   * have run out), which a claim sends again. Instead of the store's plain claim, an operator's role and
   * limits are checked in the same transaction as the claim, and a request over them throws
   * (approval_required) with nothing written to the journal or sent. A settled record is replayed without it.
   */
  claimToSend?(record: NewAdjustment, leaseMs: number, existing: AdjustmentRecord | null): Promise<ClaimResult>;
  /**
   * The record, once a settlement the database refused at first has been stored in the background: an
   * APPLIED record's usage.changed is then this request's to announce.
   */
  settledLater?: (record: AdjustmentRecord) => void;
}

export interface Settled {
  record: AdjustmentRecord;
  /** True when the record was already settled (or another request settled it): no new effect. */
  replayed: boolean;
  /**
   * Whether this request made the record APPLIED, so its usage.changed is this request's to announce
   * (once per record: not on a replay, and not while the settlement could not be stored: it is then
   * announced through `settledLater` once stored).
   */
  announce: boolean;
}

/** Waits between attempts to store a settlement the database refused: from a quarter second up to 5 s. */
const SETTLE_RETRY_FIRST_MS = 250;
const SETTLE_RETRY_MAX_MS = 5000;
/** How long a refused settlement is retried before it is left to a retry with its key (see run). */
const SETTLE_RETRY_FOR_MS = 10 * 60_000;

/**
 * The exactly-once protocol over the journal: a key already settled is replayed from its record alone
 * (neither RevenueCat nor the currency list is needed); a new key is checked, written PENDING, sent,
 * and settled APPLIED, REJECTED or UNKNOWN. An UNKNOWN record, or a PENDING one whose lease ran out
 * (a crash between RevenueCat and the settlement), is claimed again by the next request with its key
 * and sent again with the same upstream key, so RevenueCat replays or applies it, never twice.
 */
@Injectable()
export class ExactlyOnce implements OnModuleDestroy {
  private readonly logger = new Logger(ExactlyOnce.name);
  /** Wakes the background settlements when the module stops: each then gives up at once. */
  private readonly stopping = new AbortController();

  constructor(
    @Inject(IdempotencyStore) private readonly store: IdempotencyStore,
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() private readonly lifecycle: Lifecycle = new Lifecycle(),
  ) {}

  async run(once: OnceOnly): Promise<Settled> {
    const existing = await this.store.findByIdempotencyKey(once.record.idempotencyKey);
    if (existing !== null && !sameOwner(existing, once.record)) {
      this.metrics.idempotencyConflicts.inc({ kind: 'reused' });
      throw Errors.idempotencyKeyReused();
    }
    if (existing === null) await once.prepare();

    const leaseMs = this.config.idempotencyLeaseMs;
    const claim =
      once.claimToSend && (existing === null || mayBeSent(existing, once.record))
        ? await once.claimToSend(once.record, leaseMs, existing)
        : await this.store.claim(once.record, leaseMs);
    switch (claim.kind) {
      case 'mismatch':
        this.metrics.idempotencyConflicts.inc({ kind: 'reused' });
        throw Errors.idempotencyKeyReused();
      case 'in_progress':
        this.metrics.idempotencyConflicts.inc({ kind: 'in_progress' });
        throw Errors.idempotencyKeyInProgress();
      case 'already_reversed':
        throw Errors.alreadyReversed(claim.reversalId);
      case 'settled':
        this.metrics.idempotencyReplays.inc();
        return { record: replayable(claim.record), replayed: true, announce: false };
    }

    const attempt = answered(await once.apply(claim.record), claim.record);
    const outcome = toOutcome(attempt);
    let settled: AdjustmentRecord | null | undefined;
    try {
      settled = await this.store.settle(claim.record.id, claim.token, outcome);
    } catch (error) {
      // RevenueCat has answered, so the caller gets its answer, and the outcome is stored as soon as the
      // database takes it. Should that not happen (a long outage, a shutdown), the record keeps its lease
      // and then reads UNKNOWN: a retry with its key sends the same upstream key, which RevenueCat replays.
      // The reason by kind only: a driver's message may quote the statement and its parameters.
      const reason = isDatabaseUnavailable(error) ? 'the database does not answer' : (error as Error).name;
      this.logger.warn(`adjustment ${claim.record.id} not settled as ${attempt.status} (${reason}); retrying in the background`);
      this.lifecycle
        // Minutes of retries at most, after the request has answered: in no request's trace.
        .track(() => detachedFromRequest(() => this.settleLater(claim.record, claim.token, outcome, once.settledLater)))
        .catch((failure: unknown) => this.logger.error(`adjustment ${claim.record.id}: ${(failure as Error).message}`));
    }
    if (attempt.status !== 'APPLIED') throw attempt.error;
    const record = settled ?? { ...claim.record, ...settledColumns(outcome), settledAt: new Date() };
    // null: another request re-claimed the record after this lease ran out; it settles and announces it.
    return { record, replayed: settled === null, announce: settled != null };
  }

  onModuleDestroy(): void {
    this.stopping.abort();
  }

  /**
   * Stores an outcome the database refused, with backoff, for a bounded time. The record is still this
   * claim's unless a retry with its key took it over after the lease ran out (settle answers null): that
   * request reaches RevenueCat with the same upstream key, and settles and announces it itself.
   */
  private async settleLater(claimed: AdjustmentRecord, token: string, outcome: Outcome, settledLater?: (record: AdjustmentRecord) => void): Promise<void> {
    const giveUpAt = Date.now() + SETTLE_RETRY_FOR_MS;
    for (let delay = SETTLE_RETRY_FIRST_MS; Date.now() < giveUpAt; delay = Math.min(delay * 2, SETTLE_RETRY_MAX_MS)) {
      // Nothing to keep the process for: shutdown waits for this work through the Lifecycle instead.
      if (!(await pause(delay, this.stopping.signal, { ref: false }))) break;
      let settled: AdjustmentRecord | null;
      try {
        settled = await this.store.settle(claimed.id, token, outcome);
      } catch {
        continue;
      }
      if (settled === null) {
        // Either a retry with the key took the record over (each claim counts an attempt), or an earlier
        // attempt of this loop was stored and only its answer was lost: then nobody has announced it.
        let current: AdjustmentRecord | null;
        try {
          current = await this.store.findByIdempotencyKey(claimed.idempotencyKey);
        } catch {
          continue;
        }
        if (current === null || current.attempts !== claimed.attempts || current.status !== outcome.status) {
          this.logger.log(`adjustment ${claimed.id} was settled by a retry with its key`);
          return;
        }
        settled = current;
      }
      this.logger.log(`adjustment ${claimed.id} settled as ${settled.status} once the database answered`);
      settledLater?.(settled);
      return;
    }
    this.logger.error(
      `adjustment ${claimed.id} answered ${outcome.status} by RevenueCat but not settled: it reads UNKNOWN once its lease ends; retry it with its idempotency key`,
    );
  }
}

/** Whether claiming `existing` for `record` could send it again: the same request, not settled yet. */
function mayBeSent(existing: AdjustmentRecord, record: NewAdjustment): boolean {
  return existing.fingerprint === record.fingerprint && (existing.status === 'UNKNOWN' || existing.status === 'PENDING');
}

/** An APPLIED record is returned; a REJECTED or CANCELLED one is answered with the error it was given. */
function replayable(record: AdjustmentRecord): AdjustmentRecord {
  if (record.status === 'APPLIED') return record;
  const code = (record.errorCode ?? 'internal_error') as ErrorCode;
  const details = (record.errorDetails ?? {}) as ErrorDetails;
  throw new GatewayError(code, record.errorMessage ?? undefined, details);
}

function toOutcome(attempt: Attempt): Outcome {
  if (attempt.status === 'APPLIED') return attempt;
  const { code, message, details } = attempt.error;
  return { status: attempt.status, error: { code, message, details: { ...details } } };
}

function settledColumns(outcome: Outcome): Partial<AdjustmentRecord> {
  if (outcome.status === 'APPLIED') return { status: 'APPLIED', balance: outcome.balance, balances: outcome.balances };
  return { status: outcome.status, errorCode: outcome.error.code, errorMessage: outcome.error.message };
}

/**
 * A failed attempt's error as the caller gets it, and as a replay answers it again: naming the record
 * and its key (which the gateway may have assigned), and, if ambiguous, saying so.
 */
function answered(attempt: Attempt, record: AdjustmentRecord): Attempt {
  if (attempt.status === 'APPLIED') return attempt;
  const { code, message, details } = attempt.error;
  const error = new GatewayError(code, message, {
    ...details,
    adjustmentId: record.id,
    idempotencyKey: record.idempotencyKey,
    ...(attempt.status === 'UNKNOWN' ? { outcome: 'unknown' as const } : {}),
  });
  return { status: attempt.status, error };
}
