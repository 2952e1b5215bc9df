import { Inject, Injectable, Logger } from '@nestjs/common';
import { ErrorCode, ErrorDetails, Errors, GatewayError } from '../common/errors';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { Metrics } from '../metrics/metrics';
import { IdempotencyStore } from './idempotency-store.port';

/**
 * What became of the one side effect a key guards. The names are the journal's record states: an
 * `applied` or `rejected` outcome is definitive (stored and replayed); after an `unknown` one the
 * side effect may or may not have happened, and only a retry with the same key can tell.
 */
export type Outcome<T> =
  | { status: 'applied'; value: T }
  | { status: 'rejected'; error: GatewayError }
  | { status: 'unknown'; error: unknown };

/** How an applied result is kept in its record (any JSON object but `ok`) and read back as a replay. */
export interface ResultRecord<T> {
  toRecord(value: T): Record<string, unknown>;
  fromRecord(record: Record<string, unknown>): T;
}

export interface OnceOnly<T> {
  key: string;
  /** What makes two requests the same request for this key. */
  fingerprint: string;
  /** Checks made before anything is sent; a failure frees the key, since nothing happened. */
  prepare(): Promise<void>;
  /** The side effect itself, reporting what became of it. */
  apply(): Promise<Outcome<T>>;
  result: ResultRecord<T>;
}

/** The record a finished key keeps: the result, or the definitive error, of the first request. */
type StoredOutcome = ({ ok: true } & Record<string, unknown>) | { ok: false; code: ErrorCode; message: string; details: ErrorDetails };

/**
 * The exactly-once protocol over the IdempotencyStore port: claim the key, then either replay its
 * record, refuse a conflicting request, or run the side effect and settle the record with what became
 * of it. A store that cannot be written never undoes or repeats a side effect: the key stays claimed
 * until its lease ends.
 */
@Injectable()
export class ExactlyOnce {
  private readonly logger = new Logger(ExactlyOnce.name);

  constructor(
    @Inject(IdempotencyStore) private readonly store: IdempotencyStore,
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async run<T>(once: OnceOnly<T>): Promise<T> {
    const { key, fingerprint } = once;
    const claim = await this.store.claim(key, fingerprint, this.config.idempotencyLeaseMs);
    switch (claim.kind) {
      case 'mismatch':
        this.metrics.idempotencyConflicts.inc({ kind: 'reused' });
        throw Errors.idempotencyKeyReused();
      case 'in_progress':
        this.metrics.idempotencyConflicts.inc({ kind: 'in_progress' });
        throw Errors.idempotencyKeyInProgress();
      case 'completed':
        // A replay is answered from the record alone: `prepare` is for fresh claims only.
        this.metrics.idempotencyReplays.inc();
        return replay(JSON.parse(claim.outcome) as StoredOutcome, once.result);
    }

    try {
      await once.prepare();
    } catch (error) {
      await this.release(key, claim.token);
      throw error;
    }

    const outcome = await once.apply();
    switch (outcome.status) {
      case 'applied':
        await this.complete(key, claim.token, fingerprint, { ok: true, ...once.result.toRecord(outcome.value) });
        return outcome.value;
      case 'rejected': {
        const { code, message, details } = outcome.error;
        await this.complete(key, claim.token, fingerprint, { ok: false, code, message, details });
        throw outcome.error;
      }
      case 'unknown':
        // The caller's retry reaches the side effect with the same key, which settles it.
        await this.release(key, claim.token);
        throw outcome.error;
    }
  }

  private async complete(key: string, token: string, fingerprint: string, outcome: StoredOutcome): Promise<void> {
    try {
      const stored = await this.store.complete(key, token, fingerprint, JSON.stringify(outcome), this.config.idempotencyTtlMs);
      if (!stored) this.logger.warn('an idempotency record was claimed by another request after its lease ran out');
    } catch (error) {
      this.warn('complete', key, error);
    }
  }

  private release(key: string, token: string): Promise<void> {
    return this.store.release(key, token).catch((error: unknown) => this.warn('release', key, error));
  }

  private warn(operation: string, key: string, error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    this.logger.warn(`idempotency ${operation} failed for a key of length ${key.length}: ${reason}`);
  }
}

/** The value of a settled outcome, or its error thrown: for a side effect that no key guards. */
export function settled<T>(outcome: Outcome<T>): T {
  if (outcome.status === 'applied') return outcome.value;
  throw outcome.error;
}

function replay<T>(outcome: StoredOutcome, result: ResultRecord<T>): T {
  if (!outcome.ok) throw new GatewayError(outcome.code, outcome.message, outcome.details);
  const { ok: _ok, ...record } = outcome;
  return result.fromRecord(record);
}
