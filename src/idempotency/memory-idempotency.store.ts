import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Clock } from '../common/clock';
import { ClaimResult, IdempotencyStore } from './idempotency-store.port';

type Entry =
  | { state: 'pending'; fingerprint: string; token: string; expiresAt: number }
  | { state: 'done'; fingerprint: string; outcome: string; expiresAt: number };

const SWEEP_INTERVAL_MS = 60_000;

/** One process's idempotency records; correct for a single instance only. */
@Injectable()
export class MemoryIdempotencyStore implements IdempotencyStore, OnModuleDestroy {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();

  constructor(private readonly clock: Clock) {}

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  async claim(key: string, fingerprint: string, leaseMs: number): Promise<ClaimResult> {
    const entry = this.live(key);
    if (!entry) {
      const token = randomUUID();
      this.entries.set(key, { state: 'pending', fingerprint, token, expiresAt: this.clock.now() + leaseMs });
      return { kind: 'claimed', token };
    }
    if (entry.fingerprint !== fingerprint) return { kind: 'mismatch' };
    if (entry.state === 'pending') return { kind: 'in_progress' };
    return { kind: 'completed', outcome: entry.outcome };
  }

  async complete(key: string, token: string, fingerprint: string, outcome: string, ttlMs: number): Promise<boolean> {
    const entry = this.live(key);
    if (entry && !(entry.state === 'pending' && entry.token === token)) return false;
    this.entries.set(key, { state: 'done', fingerprint, outcome, expiresAt: this.clock.now() + ttlMs });
    return true;
  }

  async release(key: string, token: string): Promise<void> {
    const entry = this.live(key);
    if (entry?.state === 'pending' && entry.token === token) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= this.clock.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}
