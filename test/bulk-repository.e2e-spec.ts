import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { BulkAdjustmentRecord, BulkAdjustmentRepository } from '../src/bulk/bulk-adjustment.repository';
import { newItemRecord } from '../src/bulk/bulk-item';
import { BulkItemStore } from '../src/bulk/bulk-item.store';
import { DatabaseConnection, openDatabase } from '../src/database/database';
import { adjustments } from '../src/database/journal.schema';
import { AdjustmentRepository } from '../src/journal/adjustment.repository';
import { describeWithPostgres, TEST_DATABASE_URL, useTestSchema } from './helpers/postgres';

const ADMIN = { operatorId: null, name: 'admin', role: 'ADMIN' as const, onBehalfOf: null };
const LEASE_MS = 60_000;

describeWithPostgres('bulk jobs in PostgreSQL: leases and item claims under concurrency', () => {
  const schema = useTestSchema('bulk_repo');
  let connection: DatabaseConnection;
  let jobs: BulkAdjustmentRepository;
  let journal: AdjustmentRepository;
  let items: BulkItemStore;

  beforeAll(async () => {
    connection = await openDatabase({ kind: 'postgres', url: TEST_DATABASE_URL }, { schema: schema.name });
    jobs = new BulkAdjustmentRepository(connection.db);
    journal = new AdjustmentRepository(connection.db);
    items = new BulkItemStore(connection.db, journal);
  });
  afterAll(async () => {
    await connection?.close();
  });

  /** A RUNNING job of `count` items, no instance holding it yet. */
  async function runningJob(count: number): Promise<BulkAdjustmentRecord> {
    const { job } = await jobs.create({
      id: `bulk_${randomUUID().replace(/-/g, '')}`,
      idempotencyKey: null,
      fingerprint: 'fp',
      currency: 'CRD',
      reason: 'T-80 repository',
      createdBy: ADMIN,
    });
    const added = await jobs.addItems(
      job.id,
      Array.from({ length: count }, (_, i) => newItemRecord(job, { userId: `user_repo_${i}`, amount: 3 })),
    );
    if (added.kind !== 'added') throw new Error(added.kind);
    const started = await jobs.start(job.id);
    if (started.kind !== 'done') throw new Error(started.kind);
    return started.job;
  }

  it('gives a RUNNING job to one of several instances asking at once, and to another only when its lease ran out or was handed back', async () => {
    // Other tests' jobs may be waiting in this schema: take them out of the way first.
    while (await jobs.acquire('sweeper', LEASE_MS));
    const job = await runningJob(1);
    const taken = await Promise.all(['a', 'b', 'c', 'd'].map((owner) => jobs.acquire(owner, LEASE_MS)));
    const holders = taken.filter((held) => held !== null);
    expect(holders.map((held) => held.id)).toEqual([job.id]);
    const owner = holders[0].leaseOwner!;
    expect(await jobs.acquire('e', LEASE_MS)).toBeNull();

    expect(await jobs.renew(job.id, 'e', LEASE_MS)).toBe(false);
    expect(await jobs.renew(job.id, owner, LEASE_MS)).toBe(true);
    await jobs.release(job.id, 'e');
    expect(await jobs.acquire('e', LEASE_MS)).toBeNull();
    await jobs.release(job.id, owner);
    expect((await jobs.acquire('e', LEASE_MS))?.id).toBe(job.id);

    // A lease that runs out frees the job for the next instance.
    await connection.db.execute(sql`update bulk_adjustments set lease_expires_at = now() - interval '1 second' where id = ${job.id}`);
    expect((await jobs.acquire('f', LEASE_MS))?.leaseOwner).toBe('f');
    expect(await jobs.renew(job.id, 'e', LEASE_MS)).toBe(false);
  });

  it('lets one of two runners claim an item; the other finds it in progress; a cancelled item is settled', async () => {
    const job = await runningJob(2);
    const [first, second] = await jobs.queuedItems(job.id, null, 10);
    const claims = await Promise.all([items.claim(first, LEASE_MS), items.claim(first, LEASE_MS)]);
    expect(claims.map((claim) => claim.kind).sort()).toEqual(['claimed', 'in_progress']);
    const claimed = claims.find((claim) => claim.kind === 'claimed') as { record: { attempts: number; status: string } };
    expect(claimed.record).toMatchObject({ status: 'PENDING', attempts: 1 });

    await jobs.cancel(job.id);
    expect((await items.claim(second, LEASE_MS)).kind).toBe('settled');
    expect((await journal.findById(second.id))?.status).toBe('CANCELLED');
    // The one being sent was not cancelled: it settles as RevenueCat answers.
    expect((await journal.findById(first.id))?.status).toBe('PENDING');
  });

  it('completes a job only when nothing is left to send, and leaves an item out of attempts UNKNOWN', async () => {
    const job = await runningJob(2);
    const owner = 'completer';
    await connection.db.execute(sql`update bulk_adjustments set lease_owner = ${owner}, lease_expires_at = now() + interval '1 minute' where id = ${job.id}`);
    const [one, two] = await jobs.queuedItems(job.id, null, 10);
    expect(await jobs.complete(job.id, owner, 5)).toBeNull();

    const claimOne = await items.claim(one, LEASE_MS);
    if (claimOne.kind !== 'claimed') throw new Error(claimOne.kind);
    await journal.settle(one.id, claimOne.token, { status: 'APPLIED', balance: 3, balances: [] });
    const claimTwo = await items.claim(two, LEASE_MS);
    if (claimTwo.kind !== 'claimed') throw new Error(claimTwo.kind);
    // Held by a live claim: not complete yet.
    expect(await jobs.complete(job.id, owner, 5)).toBeNull();
    // Its sender died after its last allowed attempt: retried no more, so the job completes and says UNKNOWN.
    await connection.db.execute(sql`update adjustments set attempts = 5, lease_expires_at = now() - interval '1 second' where id = ${two.id}`);
    expect(await jobs.retryableItems(job.id, 5, 10)).toEqual([]);
    expect(await jobs.complete(job.id, 'someone else', 5)).toBeNull();
    expect((await jobs.complete(job.id, owner, 5))?.status).toBe('COMPLETED');
    const [row] = await connection.db
      .select()
      .from(adjustments)
      .where(sql`${adjustments.id} = ${two.id}`);
    expect(row).toMatchObject({ status: 'UNKNOWN', errorCode: 'rc_call_failed', leaseToken: null });
    expect((await jobs.counts([job.id])).get(job.id)).toEqual({ queued: 0, applied: 1, rejected: 0, unknown: 1, cancelled: 0 });
  });
});
