import { Clock } from '../common/clock';
import type { OperatorRecord } from './operator.repository';

export interface OperatorTokenCacheOptions {
  /** Entries kept at most; the least recently used goes first. */
  maxEntries: number;
  /** How long an answer is trusted, at most 1000 ms: revocation reaches other instances within this. */
  ttlMs: number;
}

export const DEFAULT_TOKEN_CACHE_OPTIONS: OperatorTokenCacheOptions = { maxEntries: 10_000, ttlMs: 1000 };

/** The longest TTL allowed: other instances honour a revocation within a second (README "Rotating and revoking"). */
export const MAX_TOKEN_CACHE_TTL_MS = 1000;

interface Entry {
  operator: OperatorRecord | null;
  expiresAt: number;
}

/**
 * token hash -> operator (or null), so authentication costs at most one database lookup per token per
 * `ttlMs` per instance. A revocation here takes effect at once, even over a lookup in flight; other instances
 * see it when their entry expires (`ttlMs` <= 1 s): no cross-instance message to lose. Unknown tokens are
 * cached too, since a token is handed out only after its row is committed.
 */
export class OperatorTokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<OperatorRecord | null>>();
  /** Bumped by every invalidation: a lookup that started before one must not store its answer. */
  private generation = 0;

  constructor(
    private readonly clock: Clock,
    private readonly options: OperatorTokenCacheOptions = DEFAULT_TOKEN_CACHE_OPTIONS,
  ) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) throw new Error('maxEntries must be a positive integer');
    if (!(options.ttlMs >= 0 && options.ttlMs <= MAX_TOKEN_CACHE_TTL_MS)) {
      throw new Error(`ttlMs must be from 0 to ${MAX_TOKEN_CACHE_TTL_MS}: a longer one would let a revoked token through`);
    }
  }

  /**
   * The live operator whose token hashes to `tokenHash`, from the cache or from `load` (typically
   * OperatorRepository.findByTokenHash). Concurrent misses for one hash share one `load`. A failing
   * `load` is not cached: its error reaches every caller waiting on it.
   */
  async resolve(tokenHash: string, load: (tokenHash: string) => Promise<OperatorRecord | null>): Promise<OperatorRecord | null> {
    const cached = this.entries.get(tokenHash);
    if (cached) {
      if (cached.expiresAt > this.clock.now()) {
        // Most recently used goes to the end of the Map's order, so eviction takes the oldest.
        this.entries.delete(tokenHash);
        this.entries.set(tokenHash, cached);
        return cached.operator;
      }
      this.entries.delete(tokenHash);
    }
    const pending = this.loading.get(tokenHash);
    if (pending) return pending;

    const generation = this.generation;
    const lookup = load(tokenHash).then((operator) => {
      if (this.generation === generation) this.store(tokenHash, operator);
      return operator;
    });
    this.loading.set(tokenHash, lookup);
    const forget = () => {
      if (this.loading.get(tokenHash) === lookup) this.loading.delete(tokenHash);
    };
    lookup.then(forget, forget);
    return lookup;
  }

  /** Forgets every entry of one operator (revoked, or its role or limits changed), at once, on this instance. */
  invalidateOperator(operatorId: string): void {
    this.generation++;
    for (const [hash, entry] of this.entries) if (entry.operator?.id === operatorId) this.entries.delete(hash);
    // A lookup under way may return the operator as it was: callers arriving now must not join it.
    this.loading.clear();
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
    this.loading.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private store(tokenHash: string, operator: OperatorRecord | null): void {
    this.entries.delete(tokenHash);
    while (this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    this.entries.set(tokenHash, { operator, expiresAt: this.clock.now() + this.options.ttlMs });
  }
}
