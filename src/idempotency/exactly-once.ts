import { Inject, Injectable, Logger } from '@nestjs/common';
import { ErrorCode, ErrorDetails, Errors, GatewayError } from '../common/errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics';
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
}

export interface Settled {
  record: AdjustmentRecord;
  /** True when the record was already settled (or another request settled it): no new effect. */
  replayed: boolean;
  /**
   * Whether this request made the record APPLIED, so its usage.changed is this request's to announce
   * (once per record: not on a replay, and not while the settlement could not be stored, since the
   * request that stores it later announces it then).
   */
  announce: boolean;
}

/**
 * The exactly-once protocol over the journal: a key already settled is replayed from its record alone
 * (neither RevenueCat nor the currency list is needed); a new key is checked, written PENDING, sent,
 * and settled APPLIED, REJECTED or UNKNOWN. An UNKNOWN record, or a PENDING one whose lease ran out
 * (a crash between RevenueCat and the settlement), is claimed again by the next request with its key
 * and sent again with the same upstream key, so RevenueCat replays or applies it, never twice.
 */
@Injectable()
export class ExactlyOnce {
  private readonly logger = new Logger(ExactlyOnce.name);

  constructor(
    @Inject(IdempotencyStore) private readonly store: IdempotencyStore,
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
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
      // RevenueCat has answered; the record stays PENDING until its lease ends, and the next request
      // with this key sends it again under the same upstream key, which RevenueCat replays.
      this.logger.warn(`adjustment ${claim.record.id} not settled as ${attempt.status}: ${(error as Error).message}`);
    }
    if (attempt.status !== 'APPLIED') throw attempt.error;
    const record = settled ?? { ...claim.record, ...settledColumns(outcome), settledAt: new Date() };
    // null: another request re-claimed the record after this lease ran out; it settles and announces it.
    return { record, replayed: settled === null, announce: settled != null };
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
