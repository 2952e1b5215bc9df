import { Inject, Injectable } from '@nestjs/common';
import { and, eq, or, sql } from 'drizzle-orm';
import { Database } from '../database/database';
import { whileAvailable } from '../database/database-errors';
import { adjustments } from '../database/journal.schema';
import type { AdjustmentRecord, ClaimResult, IdempotencyStore, NewAdjustment, Outcome } from '../idempotency/idempotency-store.port';
import { AdjustmentRepository } from '../journal/adjustment.repository';

/**
 * The exactly-once store as the bulk runner uses it: the journal (AdjustmentRepository), with a shorter
 * path for what nearly every item is, a record that exists and waits to be sent. Its claim is first one
 * compare-and-set from QUEUED or UNKNOWN, or PENDING with the lease run out, to PENDING under a new lease,
 * which is the journal's own re-claim in one statement instead of three; anything else (settled, held,
 * another fingerprint) goes through the journal's claim, which says what the key holds.
 */
@Injectable()
export class BulkItemStore implements IdempotencyStore {
  constructor(
    @Inject(Database) private readonly db: Database,
    private readonly journal: AdjustmentRepository,
  ) {}

  findByIdempotencyKey(key: string): Promise<AdjustmentRecord | null> {
    return this.journal.findByIdempotencyKey(key);
  }

  async claim(record: NewAdjustment, leaseMs: number): Promise<ClaimResult> {
    const token = globalThis.crypto.randomUUID();
    const [claimed] = await whileAvailable(() =>
      this.db
        .update(adjustments)
        .set({
          status: 'PENDING',
          leaseToken: token,
          leaseExpiresAt: sql`now() + ${leaseMs} * interval '1 millisecond'`,
          attempts: sql`${adjustments.attempts} + 1`,
        })
        .where(
          and(
            eq(adjustments.idempotencyKey, record.idempotencyKey),
            eq(adjustments.fingerprint, record.fingerprint),
            or(eq(adjustments.status, 'QUEUED'), eq(adjustments.status, 'UNKNOWN'), and(eq(adjustments.status, 'PENDING'), sql`${adjustments.leaseExpiresAt} <= now()`)),
          ),
        )
        .returning(),
    );
    if (claimed) return { kind: 'claimed', record: claimed, token };
    return this.journal.claim(record, leaseMs);
  }

  settle(id: string, token: string, outcome: Outcome): Promise<AdjustmentRecord | null> {
    return this.journal.settle(id, token, outcome);
  }
}
