/**
 * The embedded database, end to end, in a process of its own (PGlite does not load under jest's CommonJS
 * runtime): pglite:memory, then pglite:<dir> opened, migrated, written, closed, reopened and read back.
 * Prints one JSON line with what it saw and the process's peak memory; exits 1 on any failure.
 *
 *   node -r ts-node/register/transpile-only scripts/pglite-smoke.ts [dir]
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { openDatabase, queryRows, type DatabaseConnection } from '../src/database/database';
import { BulkAdjustmentRepository } from '../src/bulk/bulk-adjustment.repository';
import { newItemRecord } from '../src/bulk/bulk-item';
import { AdjustmentRepository, type NewAdjustment } from '../src/journal/adjustment.repository';
import { OperatorRepository } from '../src/operators/operator.repository';
import { issueOperatorToken } from '../src/operators/operator-token';

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

function adjustment(overrides: Partial<NewAdjustment> = {}): NewAdjustment {
  const id = randomUUID();
  return {
    id,
    idempotencyKey: `smoke-${id}`,
    fingerprint: 'fp',
    userId: 'user_smoke',
    currency: 'CRD',
    amount: 25,
    reason: 'pglite smoke',
    upstreamKey: `rc-${id}`,
    actorName: 'admin',
    actorRole: 'ADMIN',
    ...overrides,
  };
}

/** Claim, replay while pending, settle, replay once applied, reverse twice: what the journal will do. */
async function exercise(connection: DatabaseConnection): Promise<Record<string, unknown>> {
  const repository = new AdjustmentRepository(connection.db);
  const record = adjustment();
  const claim = await repository.claim(record, 60_000);
  if (claim.kind !== 'claimed') throw new Error(`claim: ${claim.kind}`);
  const whilePending = await repository.claim(record, 60_000);
  const settled = await repository.settle(record.id, claim.token, {
    status: 'APPLIED',
    balance: 125,
    balances: [{ currency: 'CRD', name: 'Credits', balance: 125 }],
  });
  const replay = await repository.claim(record, 60_000);
  const reversal = await repository.claim(adjustment({ amount: -25, reversesId: record.id }), 60_000);
  const secondReversal = await repository.claim(adjustment({ amount: -25, reversesId: record.id }), 60_000);
  if (reversal.kind !== 'claimed') throw new Error(`reversal: ${reversal.kind}`);
  // settle() runs a transaction (the reversal and its original): PGlite's single connection must not deadlock.
  const reversed = await repository.settle(reversal.record.id, reversal.token, { status: 'APPLIED', balance: 100, balances: [] });
  const page = await repository.list({ userId: 'user_smoke' }, 10);
  // The daily-limit reservation locks the operator's row in a transaction that also claims the record:
  // four at once with room for two must neither deadlock on the one connection nor overshoot.
  const operators = new OperatorRepository(connection.db);
  const { token: _token, ...credential } = issueOperatorToken();
  const operator = await operators.create({
    id: randomUUID(),
    name: 'smoke agent',
    role: 'AGENT',
    maxAdjustment: null,
    dailyLimit: 50,
    ...credential,
    createdBy: { operatorId: null, name: 'admin', role: 'ADMIN', onBehalfOf: null },
  });
  const reservations = await Promise.all(
    Array.from({ length: 4 }, () =>
      operators.reserveAdjustment(operator.id, 25, (tx) =>
        new AdjustmentRepository(tx).claim(adjustment({ userId: 'user_smoke_ops', actorOperatorId: operator.id, actorRole: 'AGENT' }), 60_000),
      ),
    ),
  );
  const bulk = await exerciseBulk(connection);
  return {
    bulk,
    id: record.id,
    whilePending: whilePending.kind,
    settled: settled?.status,
    replay: replay.kind,
    reversal: reversal.kind,
    secondReversal: secondReversal.kind,
    reversalId: reversed?.id,
    listed: page.nodes.length,
    dailyLimitReserved: reservations.filter((r) => r.kind === 'reserved').length,
    ping: await connection.ping(),
  };
}

/** A bulk job: items added once per user, two runners racing for it (FOR UPDATE SKIP LOCKED), its items claimed, settled, completed. */
async function exerciseBulk(connection: DatabaseConnection): Promise<Record<string, unknown>> {
  const jobs = new BulkAdjustmentRepository(connection.db);
  const journal = new AdjustmentRepository(connection.db);
  const created = await jobs.create({
    id: `bulk_${randomUUID().replace(/-/g, '')}`,
    idempotencyKey: null,
    fingerprint: 'fp',
    currency: 'CRD',
    reason: 'pglite smoke bulk',
    createdBy: { operatorId: null, name: 'admin', role: 'ADMIN', onBehalfOf: null },
  });
  const job = created.job;
  const item = (userId: string) => newItemRecord(job, { userId, amount: 5 });
  const added = await jobs.addItems(job.id, [item('user_smoke_bulk_1'), item('user_smoke_bulk_2')]);
  const duplicate = await jobs.addItems(job.id, [item('user_smoke_bulk_3'), item('user_smoke_bulk_1')]);
  await jobs.start(job.id);
  const acquired = await Promise.all([jobs.acquire('runner-a', 30_000), jobs.acquire('runner-b', 30_000)]);
  const owner = acquired.find((held) => held !== null)?.leaseOwner ?? 'none';
  const queued = await jobs.queuedItems(job.id, null, 10);
  for (const queuedItem of queued) {
    const claim = await journal.claim(queuedItem, 60_000);
    if (claim.kind !== 'claimed') throw new Error(`bulk item claim: ${claim.kind}`);
    await journal.settle(queuedItem.id, claim.token, { status: 'APPLIED', balance: 5, balances: [] });
  }
  const completed = await jobs.complete(job.id, owner, 5);
  const counts = (await jobs.counts([job.id])).get(job.id);
  const pace = completed ? await jobs.recentPace(completed, 30_000) : undefined;
  return {
    added: added.kind,
    duplicate: duplicate.kind,
    acquired: acquired.filter((held) => held !== null).length,
    queued: queued.length,
    completed: completed?.status,
    applied: counts?.applied,
    settledRecently: pace?.settled,
  };
}

async function main(): Promise<void> {
  const dir = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'pglite-smoke-'));
  const ownsDir = process.argv[2] === undefined;
  const result: Record<string, unknown> = {};
  let peakRss = process.memoryUsage().rss;
  const sample = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
  try {
    const memory = await openDatabase({ kind: 'pglite', memory: true });
    sample();
    result.memory = await exercise(memory);
    await memory.close();
    result.rssAfterFirstMb = mb(sample());

    const persisted = await openDatabase({ kind: 'pglite', dir: join(dir, 'data') });
    result.dir = await exercise(persisted);
    await persisted.close();
    sample();

    const reopened = await openDatabase({ kind: 'pglite', dir: join(dir, 'data') });
    const id = (result.dir as { id: string }).id;
    const record = await new AdjustmentRepository(reopened.db).findById(id);
    const migrations = await queryRows<{ count: number }>(reopened.db, sql`select count(*)::int as count from public.__drizzle_migrations`);
    result.reopened = { status: record?.status, balance: record?.balance, reversedById: record?.reversedById ?? null, migrations: migrations[0]?.count };
    await reopened.close();
    result.peakRssMb = mb(sample());
  } finally {
    if (ownsDir) rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`pglite smoke failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
