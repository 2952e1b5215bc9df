import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { sql } from 'drizzle-orm';
import { DatabaseConnection, openDatabase, queryRows } from '../src/database/database';
import { DatabaseUnavailableError, whileAvailable } from '../src/database/database-errors';
import { AdjustmentRecord, AdjustmentRepository, InvalidPageArgumentError, NewAdjustment, encodeCursor } from '../src/journal/adjustment.repository';
import { adjustments, AdjustmentStatus } from '../src/database/journal.schema';
import { createTestSchema, describeWithPostgres, TEST_DATABASE_URL, useTestSchema } from './helpers/postgres';

const LEASE_MS = 60_000;

function newAdjustment(overrides: Partial<NewAdjustment> = {}): NewAdjustment {
  const id = randomUUID();
  return {
    id,
    idempotencyKey: `key-${id}`,
    fingerprint: 'fp-1',
    userId: 'user_journal',
    currency: 'CRD',
    amount: 50,
    reason: 'ticket 123: goodwill',
    upstreamKey: `rc-${id}`,
    actorOperatorId: null,
    actorName: 'admin',
    actorRole: 'ADMIN',
    ...overrides,
  };
}

async function admin<T extends object>(text: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

describeWithPostgres('database on PostgreSQL', () => {
  it('migrates a fresh schema once, under the lock, when two instances start together', async () => {
    const schema = await createTestSchema('migrate');
    const [first, second] = await Promise.all([
      openDatabase({ kind: 'postgres', url: TEST_DATABASE_URL }, { schema: schema.name }),
      openDatabase({ kind: 'postgres', url: TEST_DATABASE_URL }, { schema: schema.name }),
    ]);
    try {
      const tables = await admin<{ table_name: string }>('select table_name from information_schema.tables where table_schema = $1 order by table_name', [schema.name]);
      expect(tables.map((t) => t.table_name)).toEqual(['__drizzle_migrations', 'adjustments', 'approval_requests', 'bulk_adjustments', 'operators']);
      const applied = await admin(`select hash from "${schema.name}".__drizzle_migrations`);
      expect(applied).toHaveLength(4);
      // The tables are found through the connection's search_path, not in public.
      expect(await first.db.select().from(adjustments)).toEqual([]);
      expect(await second.ping()).toBe(true);
    } finally {
      await first.close();
      await second.close();
      await schema.drop();
    }
  });

  it('refuses to start, quickly and typed, when PostgreSQL does not answer', async () => {
    const failure = await openDatabase({ kind: 'postgres', url: 'postgres://postgres:hunter2@127.0.0.1:1/test' }, { connectTimeoutMs: 500 }).then(
      () => null,
      (error: Error) => error,
    );
    expect(failure).toBeInstanceOf(DatabaseUnavailableError);
    expect((failure as DatabaseUnavailableError).detail).toBe('PostgreSQL does not answer at start-up');
  });

  describe('after start', () => {
    const schema = useTestSchema('outage');
    let connection: DatabaseConnection;
    let repository: AdjustmentRepository;
    beforeAll(async () => {
      connection = await openDatabase({ kind: 'postgres', url: TEST_DATABASE_URL }, { schema: schema.name, maxConnections: 1, statementTimeoutMs: 300 });
      repository = new AdjustmentRepository(connection.db);
    });
    afterAll(() => connection.close());

    it('survives its connection being killed (pool error handled) and reconnects for the next query', async () => {
      const claimed = await repository.claim(newAdjustment(), LEASE_MS);
      if (claimed.kind !== 'claimed') throw new Error(claimed.kind);
      const [{ pid }] = (await queryRows<{ pid: number }>(connection.db, sql`select pg_backend_pid() as pid`)) as [{ pid: number }];
      expect(await admin('select pg_terminate_backend($1) as ok', [pid])).toEqual([{ ok: true }]);
      // The idle connection's 'error' event fires now; without a listener the process would exit.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await repository.findById(claimed.record.id)).toMatchObject({ status: 'PENDING' });
      expect(await connection.ping()).toBe(true);
    });

    it('turns a statement that outlives the statement timeout into DatabaseUnavailableError', async () => {
      await expect(whileAvailable(() => connection.db.execute(sql`select pg_sleep(2)`))).rejects.toThrow(DatabaseUnavailableError);
      expect(await connection.ping()).toBe(true);
    });

    it('answers ping false and queries DatabaseUnavailableError once closed', async () => {
      const other = await openDatabase({ kind: 'postgres', url: TEST_DATABASE_URL }, { schema: schema.name });
      await other.close();
      expect(await other.ping(200)).toBe(false);
      await expect(new AdjustmentRepository(other.db).findById('x')).rejects.toThrow(DatabaseUnavailableError);
    });
  });
});

describeWithPostgres('AdjustmentRepository on PostgreSQL', () => {
  const schema = useTestSchema('journal');
  let connection: DatabaseConnection;
  let repository: AdjustmentRepository;
  beforeAll(async () => {
    connection = await openDatabase({ kind: 'postgres', url: TEST_DATABASE_URL }, { schema: schema.name });
    repository = new AdjustmentRepository(connection.db);
  });
  afterAll(() => connection.close());

  describe('claim and settle', () => {
    it('claims a new key PENDING with a lease, then replays it once APPLIED', async () => {
      const record = newAdjustment();
      const claim = await repository.claim(record, LEASE_MS);
      if (claim.kind !== 'claimed') throw new Error(`expected claimed, got ${claim.kind}`);
      expect(claim.record).toMatchObject({ id: record.id, status: 'PENDING', leaseToken: claim.token, attempts: 1, settledAt: null });
      expect(claim.record.leaseExpiresAt!.getTime()).toBeGreaterThan(claim.record.createdAt.getTime() + LEASE_MS - 5000);

      const balances = [{ currency: 'CRD', name: 'Credits', balance: 300 }];
      const settled = await repository.settle(record.id, claim.token, { status: 'APPLIED', balance: 300, balances });
      expect(settled).toMatchObject({ status: 'APPLIED', balance: 300, balances, leaseToken: null, leaseExpiresAt: null, errorCode: null });
      expect(settled!.settledAt).toBeInstanceOf(Date);

      const replay = await repository.claim({ ...record, id: randomUUID() }, LEASE_MS);
      expect(replay).toEqual({ kind: 'settled', record: settled });
    });

    it('stores a REJECTED error exactly, for the replay', async () => {
      const record = newAdjustment({ amount: -5000 });
      const claim = await repository.claim(record, LEASE_MS);
      if (claim.kind !== 'claimed') throw new Error(claim.kind);
      const error = { code: 'insufficient_balance', message: 'insufficient balance', details: { balance: 12, idempotencyKey: record.idempotencyKey } };
      await repository.settle(record.id, claim.token, { status: 'REJECTED', error });
      const replay = await repository.claim(record, LEASE_MS);
      expect(replay.kind).toBe('settled');
      expect((replay as { record: AdjustmentRecord }).record).toMatchObject({
        status: 'REJECTED',
        errorCode: 'insufficient_balance',
        errorMessage: 'insufficient balance',
        errorDetails: error.details,
        balance: null,
      });
    });

    it('reports a different request under the same key as a mismatch, whatever its state', async () => {
      const record = newAdjustment();
      await repository.claim(record, LEASE_MS);
      const other = await repository.claim({ ...record, id: randomUUID(), fingerprint: 'fp-other', amount: 51 }, LEASE_MS);
      expect(other.kind).toBe('mismatch');
      expect(await repository.findByIdempotencyKey(record.idempotencyKey)).toMatchObject({ id: record.id, amount: 50, status: 'PENDING' });
    });

    it('reports a PENDING record with a live lease as in progress, and refuses a settle without its token', async () => {
      const record = newAdjustment();
      const claim = await repository.claim(record, LEASE_MS);
      if (claim.kind !== 'claimed') throw new Error(claim.kind);
      expect(await repository.claim(record, LEASE_MS)).toMatchObject({ kind: 'in_progress', record: { id: record.id, status: 'PENDING' } });
      expect(await repository.settle(record.id, randomUUID(), { status: 'APPLIED', balance: 1, balances: [] })).toBeNull();
      expect(await repository.findById(record.id)).toMatchObject({ status: 'PENDING', leaseToken: claim.token });
    });

    it('re-claims a PENDING record whose lease ran out; the old token can no longer settle it', async () => {
      const record = newAdjustment();
      const first = await repository.claim(record, 1);
      if (first.kind !== 'claimed') throw new Error(first.kind);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const second = await repository.claim(record, LEASE_MS);
      if (second.kind !== 'claimed') throw new Error(`expected claimed, got ${second.kind}`);
      expect(second.token).not.toBe(first.token);
      expect(second.record).toMatchObject({ id: record.id, status: 'PENDING', attempts: 2 });
      expect(await repository.settle(record.id, first.token, { status: 'APPLIED', balance: 1, balances: [] })).toBeNull();
      expect(await repository.settle(record.id, second.token, { status: 'APPLIED', balance: 2, balances: [] })).toMatchObject({ balance: 2 });
    });

    it('re-claims an UNKNOWN record (the retry settles it) and keeps its error until then', async () => {
      const record = newAdjustment();
      const first = await repository.claim(record, LEASE_MS);
      if (first.kind !== 'claimed') throw new Error(first.kind);
      const unknown = await repository.settle(record.id, first.token, {
        status: 'UNKNOWN',
        error: { code: 'rc_call_failed', message: 'rc_call_failed: timeout', details: { rcType: 'timeout', outcome: 'unknown' } },
      });
      expect(unknown).toMatchObject({ status: 'UNKNOWN', errorCode: 'rc_call_failed', settledAt: null, leaseToken: null });
      const retry = await repository.claim(record, LEASE_MS);
      if (retry.kind !== 'claimed') throw new Error(`expected claimed, got ${retry.kind}`);
      expect(retry.record).toMatchObject({ id: record.id, upstreamKey: record.upstreamKey, attempts: 2 });
    });

    it('gives one key, claimed by two instances (two pools) at once, to exactly one of them', async () => {
      const otherInstance = await openDatabase({ kind: 'postgres', url: TEST_DATABASE_URL }, { schema: schema.name });
      try {
        const repositories = [repository, new AdjustmentRepository(otherInstance.db)];
        for (let round = 0; round < 10; round++) {
          const record = newAdjustment();
          const results = await Promise.all(repositories.map((r, i) => r.claim({ ...record, id: `${record.id}-${i}` }, LEASE_MS)));
          expect(results.map((r) => r.kind).sort()).toEqual(['claimed', 'in_progress']);
        }
        // The same for the re-claim of an UNKNOWN record: the compare-and-set lets one through.
        for (let round = 0; round < 10; round++) {
          const record = newAdjustment();
          const first = await repository.claim(record, LEASE_MS);
          await repository.settle(record.id, (first as { token: string }).token, { status: 'UNKNOWN', error: { code: 'rc_call_failed', message: 'x' } });
          const results = await Promise.all(repositories.map((r) => r.claim(record, LEASE_MS)));
          expect(results.map((r) => r.kind).sort()).toEqual(['claimed', 'in_progress']);
        }
      } finally {
        await otherInstance.close();
      }
    });

    it('holds an adjustment for one live reversal at a time; a REJECTED one frees it; APPLIED marks the original', async () => {
      const original = newAdjustment();
      const claim = await repository.claim(original, LEASE_MS);
      await repository.settle(original.id, (claim as { token: string }).token, { status: 'APPLIED', balance: 50, balances: [] });

      const reversal = newAdjustment({ amount: -50, reversesId: original.id });
      const first = await repository.claim(reversal, LEASE_MS);
      if (first.kind !== 'claimed') throw new Error(first.kind);
      expect(await repository.claim(newAdjustment({ amount: -50, reversesId: original.id }), LEASE_MS)).toEqual({
        kind: 'already_reversed',
        reversalId: reversal.id,
      });
      await repository.settle(reversal.id, first.token, { status: 'REJECTED', error: { code: 'insufficient_balance', message: 'no' } });

      const second = newAdjustment({ amount: -50, reversesId: original.id });
      const secondClaim = await repository.claim(second, LEASE_MS);
      if (secondClaim.kind !== 'claimed') throw new Error(secondClaim.kind);
      await repository.settle(second.id, secondClaim.token, { status: 'APPLIED', balance: 0, balances: [] });
      expect(await repository.findById(original.id)).toMatchObject({ reversedById: second.id });
      expect(await repository.findLiveReversal(original.id)).toMatchObject({ id: second.id, status: 'APPLIED' });
    });
  });

  describe('list', () => {
    const bulkId = `bulk-${randomUUID()}`;
    const base = Date.UTC(2030, 0, 1);
    const statuses: AdjustmentStatus[] = ['APPLIED', 'REJECTED', 'UNKNOWN', 'PENDING', 'QUEUED'];
    const seeded: Array<{ id: string; userId: string; currency: string; status: AdjustmentStatus; operatorId: string | null; bulk: string | null; createdAt: Date }> = [];

    beforeAll(async () => {
      // 250 records of one user over 125 distinct instants: pairs share a createdAt, so the id breaks ties.
      const rows = Array.from({ length: 250 }, (_, i) => {
        const createdAt = new Date(base + Math.floor(i / 2) * 1000);
        const status = statuses[i % statuses.length];
        const row = {
          ...newAdjustment({ userId: 'user_pager', currency: i % 3 === 0 ? 'GEM' : 'CRD', createdAt }),
          id: `adj-${String(i).padStart(3, '0')}-${randomUUID().slice(0, 8)}`,
          actorOperatorId: i % 4 === 0 ? 'op_1' : null,
          bulkAdjustmentId: i % 5 === 0 ? bulkId : null,
          status,
          leaseToken: status === 'PENDING' ? 't' : null,
          leaseExpiresAt: status === 'PENDING' ? new Date(base) : null,
        };
        seeded.push({ id: row.id, userId: row.userId, currency: row.currency, status, operatorId: row.actorOperatorId, bulk: row.bulkAdjustmentId, createdAt });
        return row;
      });
      await connection.db.insert(adjustments).values(rows);
    });

    const newestFirst = (a: { createdAt: Date; id: string }, b: { createdAt: Date; id: string }) =>
      b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

    async function pageThrough(filter: Parameters<AdjustmentRepository['list']>[0], first: number): Promise<string[]> {
      const ids: string[] = [];
      let after: string | null = null;
      for (let pages = 0; pages < 300; pages++) {
        const page = await repository.list(filter, first, after);
        ids.push(...page.nodes.map((n) => n.id));
        if (!page.hasNextPage) {
          expect(page.nodes.length).toBeLessThanOrEqual(first);
          return ids;
        }
        expect(page.nodes).toHaveLength(first);
        after = page.endCursor;
      }
      throw new Error('paging did not end');
    }

    it('pages through 250 records newest first, each exactly once', async () => {
      const ids = await pageThrough({ userId: 'user_pager' }, 7);
      expect(ids).toEqual([...seeded].sort(newestFirst).map((s) => s.id));
    });

    it.each([
      ['currency', { currency: 'GEM' }, (s: (typeof seeded)[number]) => s.currency === 'GEM'],
      ['status', { status: ['APPLIED', 'UNKNOWN'] as AdjustmentStatus[] }, (s: (typeof seeded)[number]) => s.status === 'APPLIED' || s.status === 'UNKNOWN'],
      ['operatorId', { operatorId: 'op_1' }, (s: (typeof seeded)[number]) => s.operatorId === 'op_1'],
      ['bulkAdjustmentId + status', { status: ['APPLIED'] as AdjustmentStatus[] }, (s: (typeof seeded)[number]) => s.status === 'APPLIED' && s.bulk !== null],
      [
        'date range',
        { createdAfter: new Date(base + 10_000), createdBefore: new Date(base + 60_000) },
        (s: (typeof seeded)[number]) => s.createdAt.getTime() >= base + 10_000 && s.createdAt.getTime() < base + 60_000,
      ],
    ])('combines the %s filter with the user (AND), newest first, each once', async (name, filter, keep) => {
      const withBulk = name.startsWith('bulkAdjustmentId') ? { bulkAdjustmentId: bulkId } : {};
      const ids = await pageThrough({ userId: 'user_pager', ...filter, ...withBulk }, 10);
      const expected = [...seeded]
        .filter(keep)
        .sort(newestFirst)
        .map((s) => s.id);
      expect(expected.length).toBeGreaterThan(5);
      expect(ids).toEqual(expected);
    });

    it('answers an empty page with no cursor for a filter nothing matches', async () => {
      expect(await repository.list({ userId: 'user_pager', currency: 'NONE' }, 20)).toEqual({ nodes: [], endCursor: null, hasNextPage: false });
    });

    it.each([
      ['not base64url', 'abc$%^'],
      ['not JSON', Buffer.from('hello').toString('base64url')],
      ['the wrong shape', Buffer.from(JSON.stringify({ t: 1, id: 'x' })).toString('base64url')],
      ['a non-integer time', Buffer.from(JSON.stringify(['2030', 'x'])).toString('base64url')],
      ['an empty id', Buffer.from(JSON.stringify([1, ''])).toString('base64url')],
      ['empty', ''],
    ])('refuses a cursor that is %s as InvalidPageArgumentError(after)', async (_name, cursor) => {
      await expect(repository.list({}, 10, cursor)).rejects.toMatchObject({ name: 'InvalidPageArgumentError', field: 'after' });
    });

    it.each([0, 101, 1.5, -1])('refuses first = %p as InvalidPageArgumentError(first)', async (first) => {
      await expect(repository.list({}, first)).rejects.toThrow(InvalidPageArgumentError);
      await expect(repository.list({}, first)).rejects.toMatchObject({ field: 'first' });
    });

    it('accepts a cursor it made itself for a record that is not in the filter', async () => {
      const newest = [...seeded].sort(newestFirst)[0];
      const page = await repository.list({ userId: 'user_pager' }, 1, encodeCursor(newest));
      expect(page.nodes[0].id).toBe([...seeded].sort(newestFirst)[1].id);
    });

    it("serves one user's first page from an index, not a scan of the table", async () => {
      // Enough other users' rows that a sequential scan would be the planner's choice without an index.
      await admin(
        `insert into "${schema.name}".adjustments (id, idempotency_key, fingerprint, user_id, currency, amount, reason, status, upstream_key, actor_name, actor_role, created_at)
         select 'bulk-' || g, 'bulk-key-' || g, 'fp', 'user_' || (g % 5000), 'CRD', 1, 'seed', 'APPLIED', 'rc-' || g, 'admin', 'ADMIN',
                timestamptz '2029-01-01' + g * interval '1 second'
         from generate_series(1, 20000) g`,
      );
      await admin(`analyze "${schema.name}".adjustments`);
      const client = new Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema.name}` });
      await client.connect();
      try {
        for (const after of [null, encodeCursor({ createdAt: new Date(base + 100_000), id: 'adj-200' })]) {
          const statement = repository.listStatement({ userId: 'user_pager' }, 20, after).toSQL();
          const plan = (await client.query<{ 'QUERY PLAN': string }>(`explain ${statement.sql}`, statement.params)).rows.map((row) => row['QUERY PLAN']).join('\n');
          expect(plan).toMatch(/Index Scan Backward using adjustments_user_created_idx/);
          expect(plan).not.toMatch(/Seq Scan|Sort/);
        }
      } finally {
        await client.end();
      }
    });
  });
});
