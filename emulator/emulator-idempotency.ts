export interface StoredResponse {
  status: number;
  body: string;
}

export type IdempotencyClaim =
  | { kind: 'new' }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'conflict' }
  | { kind: 'in_progress' };

interface KeyRecord {
  fingerprint: string;
  response?: StoredResponse;
  storedAt: number;
}

const RECORD_TTL_MS = 24 * 60 * 60 * 1000;
/** Keeps a long benchmark with a fresh key per request from growing without bound. */
const MAX_RECORDS = 100_000;

export class EmulatorIdempotencyStore {
  private readonly records = new Map<string, KeyRecord>();

  constructor(private readonly now: () => number) {}

  /** Reserves a fresh key for this request, or says why the request must not run. */
  claim(key: string, fingerprint: string): IdempotencyClaim {
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

  complete(key: string, fingerprint: string, response: StoredResponse): void {
    this.records.set(key, { fingerprint, response, storedAt: this.now() });
  }

  release(key: string): void {
    this.records.delete(key);
  }

  clear(): void {
    this.records.clear();
  }

  private evictOldest(): void {
    if (this.records.size <= MAX_RECORDS) return;
    const oldest = this.records.keys().next();
    if (!oldest.done) this.records.delete(oldest.value);
  }
}
