import { isRetryableStatus } from '../src/revenuecat/retryable-errors';
import { EmulatorAnswer, errorAnswer, PendingAnswer } from './emulator-errors';
import { ParsedJson } from './emulator-http';

interface StoredResponse {
  status: number;
  body: string;
}

type IdempotencyClaim = { kind: 'new' } | { kind: 'replay'; response: StoredResponse } | { kind: 'conflict' } | { kind: 'in_progress' };

interface KeyRecord {
  fingerprint: string;
  response?: StoredResponse;
  storedAt: number;
}

const RECORD_TTL_MS = 24 * 60 * 60 * 1000;
/** RevenueCat's own lock backoff is short; a retrying client should come back quickly. */
const LOCK_BACKOFF_MS = 100;
/** Keeps a long benchmark with a fresh key per request from growing without bound. */
const MAX_RECORDS = 100_000;

/** `Idempotency-Key` records, kept 24 hours. */
export class EmulatorIdempotencyStore {
  private readonly records = new Map<string, KeyRecord>();

  constructor(private readonly now: () => number) {}

  clear(): void {
    this.records.clear();
  }

  /**
   * `compute` behind `Idempotency-Key`: a replay of the stored answer for the same request, 409 for a
   * different one, 423 while the first is still running. The key is reserved now, before any injected
   * latency, so a concurrent retry sees the lock; a retryable answer releases it instead of being stored.
   */
  guard(key: string, fingerprint: string, compute: () => EmulatorAnswer): PendingAnswer {
    let settled: EmulatorAnswer | undefined;
    let claimed = false;
    const claim = this.claim(key, fingerprint);
    if (claim.kind === 'replay') {
      settled = { ...claim.response, replayed: true, headers: { 'RevenueCat-Idempotent-Replayed': 'true' } };
    } else if (claim.kind === 'conflict') {
      settled = errorAnswer(409, 'idempotency_error', 'Idempotency key already used for a different request');
    } else if (claim.kind === 'in_progress') {
      settled = errorAnswer(423, 'resource_locked_error', 'A request with this idempotency key is still being processed', {
        retryable: true,
        backoffMs: LOCK_BACKOFF_MS,
      });
    } else {
      claimed = true;
    }
    return {
      answer: () => {
        if (settled) return settled;
        settled = compute();
        if (claimed) {
          if (isRetryableStatus(settled.status)) this.release(key);
          else this.complete(key, fingerprint, { status: settled.status, body: settled.body });
        }
        return settled;
      },
      abandon: () => {
        if (claimed) this.release(key);
      },
    };
  }

  /** Reserves a fresh key for this request, or says why the request must not run. */
  private claim(key: string, fingerprint: string): IdempotencyClaim {
    const existing = this.records.get(key);
    if (existing?.response && existing.storedAt + RECORD_TTL_MS <= this.now()) {
      this.records.delete(key);
    } else if (existing) {
      if (existing.fingerprint !== fingerprint) return { kind: 'conflict' };
      return existing.response ? { kind: 'replay', response: existing.response } : { kind: 'in_progress' };
    }
    this.records.set(key, { fingerprint, storedAt: this.now() });
    this.evictOldest();
    return { kind: 'new' };
  }

  private complete(key: string, fingerprint: string, response: StoredResponse): void {
    this.records.set(key, { fingerprint, response, storedAt: this.now() });
  }

  private release(key: string): void {
    this.records.delete(key);
  }

  private evictOldest(): void {
    if (this.records.size <= MAX_RECORDS) return;
    const oldest = this.records.keys().next();
    if (!oldest.done) this.records.delete(oldest.value);
  }
}

/** The same key may only come back with the same request; JSON key order does not make it different. */
export function requestFingerprint(method: string, endpoint: string, customerId: string | undefined, body: ParsedJson, text: string): string {
  return JSON.stringify([method, endpoint, customerId, body.ok ? canonicalJson(body.value) : text]);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
