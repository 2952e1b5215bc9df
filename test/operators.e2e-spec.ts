import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { Database, DatabaseConnection, openDatabase } from '../src/database/database';
import { AdjustmentRepository, type NewAdjustment } from '../src/journal/adjustment.repository';
import type { Actor } from '../src/common/actor';
import { APPROVAL_TTL_MS, ApprovalRequestRepository } from '../src/approvals/approval-request.repository';
import type { NewApprovalRequest } from '../src/credits/approval-request-store.port';
import { OperatorRepository, type NewOperator } from '../src/operators/operator.repository';
import { hashOperatorToken, issueOperatorToken } from '../src/operators/operator-token';
import { ManualClock } from '../src/common/testing/manual-clock';
import { describeWithPostgres, TEST_DATABASE_URL, useTestSchema } from './helpers/postgres';

const ROOT: Actor = { operatorId: null, name: 'admin', role: 'ADMIN', onBehalfOf: null };
const LEASE_MS = 60_000;

function newOperator(overrides: Partial<NewOperator> = {}): NewOperator & { token: string } {
  const { token, tokenHash, tokenPrefix } = issueOperatorToken();
  return {
    id: randomUUID(),
    name: 'Alice Support',
    role: 'AGENT',
    maxAdjustment: null,
    dailyLimit: null,
    tokenHash,
    tokenPrefix,
    createdBy: ROOT,
    token,
    ...overrides,
  };
}

function adjustmentBy(operatorId: string, amount: number, overrides: Partial<NewAdjustment> = {}): NewAdjustment {
  const id = randomUUID();
  return {
    id,
    idempotencyKey: `key-${id}`,
    fingerprint: `fp-${id}`,
    userId: 'user_ops',
    currency: 'CRD',
    amount,
    reason: 'ticket 42: goodwill',
    upstreamKey: `rc-${id}`,
    actorOperatorId: operatorId,
    actorName: 'op',
    actorRole: 'AGENT',
    ...overrides,
  };
}

async function admin(schema: string, text: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const client = new Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

describeWithPostgres('OperatorRepository on PostgreSQL', () => {
  const schema = useTestSchema('operators');
  let connection: DatabaseConnection;
  let other: DatabaseConnection;
  let clock: ManualClock;
  let operators: OperatorRepository;
  let journal: AdjustmentRepository;
  beforeAll(async () => {
    connection = await openDatabase({ kind: 'postgres', url: TEST_DATABASE_URL }, { schema: schema.name });
    // A second pool on the same schema: another instance.
    other = await openDatabase({ kind: 'postgres', url: TEST_DATABASE_URL }, { schema: schema.name });
  });
  beforeEach(() => {
    clock = new ManualClock(Date.now());
    operators = new OperatorRepository(connection.db, clock);
    journal = new AdjustmentRepository(connection.db);
  });
  afterAll(async () => {
    await connection.close();
    await other.close();
  });

  /** Applies a record of `amount` by the operator; `settledAt` defaults to now. */
  async function applied(operatorId: string, amount: number, settledAt?: string): Promise<string> {
    const claimed = await journal.claim(adjustmentBy(operatorId, amount), LEASE_MS);
    if (claimed.kind !== 'claimed') throw new Error(claimed.kind);
    await journal.settle(claimed.record.id, claimed.token, { status: 'APPLIED', balance: 0, balances: [] });
    if (settledAt) await admin(schema.name, `update adjustments set settled_at = ${settledAt} where id = $1`, [claimed.record.id]);
    return claimed.record.id;
  }

  it('creates an operator storing the hash and prefix of its token, never the token', async () => {
    const input = newOperator({ maxAdjustment: 500, dailyLimit: 1000, createdBy: { operatorId: null, name: 'admin:previous', role: 'ADMIN', onBehalfOf: 'jane@support' } });
    const created = await operators.create(input);
    expect(created).toEqual({
      id: input.id,
      name: 'Alice Support',
      role: 'AGENT',
      maxAdjustment: 500,
      dailyLimit: 1000,
      tokenHash: hashOperatorToken(input.token),
      tokenPrefix: input.token.slice(0, 8),
      createdAt: expect.any(Date),
      createdByOperatorId: null,
      createdByName: 'admin:previous',
      createdByRole: 'ADMIN',
      createdByOnBehalfOf: 'jane@support',
      revokedAt: null,
      lastUsedAt: null,
    });
    const stored = await admin(schema.name, 'select * from operators where id = $1', [input.id]);
    expect(JSON.stringify(stored)).not.toContain(input.token.slice(8));
    await expect(operators.create({ ...newOperator(), tokenHash: input.tokenHash })).rejects.toThrow();
    await expect(operators.create(newOperator({ dailyLimit: 0 }))).rejects.toThrow();
  });

  it('finds a live operator by token hash, and no revoked or unknown one', async () => {
    const input = newOperator();
    await operators.create(input);
    expect(await operators.findByTokenHash(hashOperatorToken(input.token))).toMatchObject({ id: input.id });
    expect(await operators.findByTokenHash(hashOperatorToken(`${input.token}x`))).toBeNull();
    const revoked = await operators.revoke(input.id);
    expect(revoked).toMatchObject({ revokedNow: true, operator: { id: input.id, revokedAt: expect.any(Date) } });
    expect(await operators.findByTokenHash(input.tokenHash)).toBeNull();
    expect(await operators.findById(input.id)).toMatchObject({ revokedAt: revoked!.operator.revokedAt });
  });

  it('revokes once: a second revoke keeps the first time, an unknown id answers null', async () => {
    const input = newOperator();
    await operators.create(input);
    const first = await operators.revoke(input.id);
    const second = await operators.revoke(input.id);
    expect(second).toEqual({ operator: first!.operator, revokedNow: false });
    expect(await operators.revoke(randomUUID())).toBeNull();
  });

  it('lists live operators oldest first, and revoked ones only when asked', async () => {
    const local = new OperatorRepository(other.db, clock);
    const before = (await local.list(true)).length;
    const a = await operators.create(newOperator({ name: 'list a' }));
    const b = await operators.create(newOperator({ name: 'list b' }));
    await operators.revoke(a.id);
    const live = await local.list();
    expect(live.map((o) => o.id)).toContain(b.id);
    expect(live.map((o) => o.id)).not.toContain(a.id);
    expect(live.every((o) => o.revokedAt === null)).toBe(true);
    const all = await local.list(true);
    expect(all).toHaveLength(before + 2);
    expect(all.slice(-2).map((o) => o.name)).toEqual(['list a', 'list b']);
  });

  it('updates role and limits of a live operator; null clears a limit; a revoked one is left alone', async () => {
    const input = newOperator({ maxAdjustment: 100, dailyLimit: 1000 });
    await operators.create(input);
    expect(await operators.update(input.id, { role: 'SUPERVISOR', maxAdjustment: null }, 'AGENT')).toMatchObject({
      role: 'SUPERVISOR',
      maxAdjustment: null,
      dailyLimit: 1000,
    });
    expect(await operators.update(input.id, {}, 'SUPERVISOR')).toMatchObject({ role: 'SUPERVISOR', dailyLimit: 1000 });
    // The role the caller's permission was checked against has changed: nothing is written.
    expect(await operators.update(input.id, { dailyLimit: 5 }, 'AGENT')).toBeNull();
    expect(await operators.revoke(input.id, 'AGENT')).toMatchObject({ revokedNow: false, operator: { revokedAt: null } });
    await operators.revoke(input.id);
    expect(await operators.update(input.id, { role: 'ADMIN' }, 'SUPERVISOR')).toBeNull();
    expect(await operators.findById(input.id)).toMatchObject({ role: 'SUPERVISOR', dailyLimit: 1000 });
    expect(await operators.update(randomUUID(), { role: 'ADMIN' }, 'AGENT')).toBeNull();
  });

  it('writes lastUsedAt at most once a minute per operator, also across instances', async () => {
    const input = newOperator();
    await operators.create(input);
    expect(await operators.touchLastUsed(input.id)).toBe(true);
    expect(await operators.touchLastUsed(input.id)).toBe(false);
    // Another instance, same minute: the statement finds the recent write and changes nothing.
    const elsewhere = new OperatorRepository(other.db, new ManualClock(clock.now() + 30_000));
    expect(await elsewhere.touchLastUsed(input.id)).toBe(false);
    expect((await operators.findById(input.id))!.lastUsedAt!.getTime()).toBe(clock.now());
    clock.advance(60_000);
    expect(await operators.touchLastUsed(input.id)).toBe(true);
    expect((await operators.findById(input.id))!.lastUsedAt!.getTime()).toBe(clock.now());
  });

  it("sums |amount| of the operator's APPLIED records settled today (UTC), reversals included, nothing else", async () => {
    const { id } = await operators.create(newOperator());
    const someoneElse = await operators.create(newOperator());
    await applied(id, 30);
    await applied(id, -20); // a deduction or a reversal counts by its size
    await applied(id, 1000, `date_trunc('day', now() at time zone 'UTC') at time zone 'UTC' - interval '1 millisecond'`); // yesterday
    await applied(someoneElse.id, 7);
    const pending = await journal.claim(adjustmentBy(id, 400), LEASE_MS); // in flight, not applied
    const rejected = await journal.claim(adjustmentBy(id, 300), LEASE_MS);
    if (pending.kind !== 'claimed' || rejected.kind !== 'claimed') throw new Error('not claimed');
    await journal.settle(rejected.record.id, rejected.token, { status: 'REJECTED', error: { code: 'insufficient_balance', message: 'no' } });
    expect(await operators.appliedToday(id)).toBe(50);
  });

  describe('reserveAdjustment', () => {
    const insertWith = (record: NewAdjustment) => async (tx: Database) => {
      const claimed = await new AdjustmentRepository(tx).claim(record, LEASE_MS);
      if (claimed.kind !== 'claimed') throw new Error(claimed.kind);
      return claimed.record.id;
    };

    it('holds the daily limit under concurrency: 20 parallel reservations of 10 from two instances with dailyLimit 100 -> exactly 10', async () => {
      const { id } = await operators.create(newOperator({ dailyLimit: 100 }));
      const instances = [new OperatorRepository(connection.db, clock), new OperatorRepository(other.db, clock)];
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => {
          const amount = i % 4 === 0 ? -10 : 10;
          return instances[i % 2].reserveAdjustment(id, amount, insertWith(adjustmentBy(id, amount)));
        }),
      );
      const reserved = results.filter((r) => r.kind === 'reserved');
      expect(reserved).toHaveLength(10);
      expect(results.filter((r) => r.kind === 'over_daily_limit')).toEqual(Array(10).fill({ kind: 'over_daily_limit', dailyLimit: 100, usedToday: 100 }));
      // Every reservation saw the ones committed before it: 0, 10, ..., 90.
      expect(reserved.map((r) => (r.kind === 'reserved' ? r.usedToday : -1)).sort((a, b) => a - b)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
      const rows = await admin(schema.name, 'select status, count(*)::int as n from adjustments where actor_operator_id = $1 group by status', [id]);
      expect(rows).toEqual([{ status: 'PENDING', n: 10 }]);
    });

    it("counts today's APPLIED, PENDING and UNKNOWN; REJECTED and earlier days free the budget", async () => {
      const { id } = await operators.create(newOperator({ dailyLimit: 100 }));
      await applied(id, 30);
      await applied(id, 500, `now() - interval '2 days'`);
      const unknown = await journal.claim(adjustmentBy(id, -25), LEASE_MS);
      const rejected = await journal.claim(adjustmentBy(id, 90), LEASE_MS);
      if (unknown.kind !== 'claimed' || rejected.kind !== 'claimed') throw new Error('not claimed');
      await journal.settle(unknown.record.id, unknown.token, { status: 'UNKNOWN', error: { code: 'rc_call_failed', message: 'timeout' } });
      await journal.settle(rejected.record.id, rejected.token, { status: 'REJECTED', error: { code: 'insufficient_balance', message: 'no' } });
      // An UNKNOWN record of an earlier day counts on the day it is retried, not forever.
      await admin(schema.name, `update adjustments set created_at = now() - interval '3 days' where id = $1`, [unknown.record.id]);
      await journal.claim(adjustmentBy(id, 20), LEASE_MS); // PENDING
      // used: 30 + 20 = 50
      expect(await operators.reserveAdjustment(id, 51, insertWith(adjustmentBy(id, 51)))).toEqual({ kind: 'over_daily_limit', dailyLimit: 100, usedToday: 50 });
      expect(await operators.reserveAdjustment(id, -25, insertWith(adjustmentBy(id, -25)))).toMatchObject({ kind: 'reserved', usedToday: 50 });
      expect(await operators.reserveAdjustment(id, 26, insertWith(adjustmentBy(id, 26)))).toEqual({ kind: 'over_daily_limit', dailyLimit: 100, usedToday: 75 });
      expect(await operators.reserveAdjustment(id, 25, insertWith(adjustmentBy(id, 25)))).toMatchObject({ kind: 'reserved', usedToday: 75 });
      expect(await operators.reserveAdjustment(id, 1, insertWith(adjustmentBy(id, 1)))).toEqual({ kind: 'over_daily_limit', dailyLimit: 100, usedToday: 100 });
    });

    it('refuses over maxAdjustment, and a revoked or unknown operator, inserting nothing', async () => {
      const { id } = await operators.create(newOperator({ maxAdjustment: 50 }));
      const insert = jest.fn();
      expect(await operators.reserveAdjustment(id, -51, insert)).toEqual({ kind: 'over_max_adjustment', maxAdjustment: 50 });
      expect(await operators.reserveAdjustment(id, 50, async () => 'inserted')).toEqual({ kind: 'reserved', value: 'inserted', usedToday: 0 });
      await operators.revoke(id);
      expect(await operators.reserveAdjustment(id, 1, insert)).toEqual({ kind: 'revoked' });
      expect(await operators.reserveAdjustment(randomUUID(), 1, insert)).toEqual({ kind: 'revoked' });
      expect(insert).not.toHaveBeenCalled();
    });

    it('reads the limits as they are now, and gives an ADMIN operator none', async () => {
      const { id } = await operators.create(newOperator({ maxAdjustment: 10, dailyLimit: 10 }));
      await operators.update(id, { maxAdjustment: 1000 }, 'AGENT');
      expect(await operators.reserveAdjustment(id, 11, async () => 1)).toEqual({ kind: 'over_daily_limit', dailyLimit: 10, usedToday: 0 });
      await operators.update(id, { role: 'ADMIN' }, 'AGENT');
      expect(await operators.reserveAdjustment(id, 2_000_000_000, async () => 2)).toEqual({ kind: 'reserved', value: 2, usedToday: 0 });
    });

    it('keeps nothing when the insert fails', async () => {
      const { id } = await operators.create(newOperator({ dailyLimit: 100 }));
      const record = adjustmentBy(id, 60);
      await expect(
        operators.reserveAdjustment(id, 60, async (tx) => {
          await insertWith(record)(tx);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await journal.findById(record.id)).toBeNull();
      expect(await operators.reserveAdjustment(id, 100, async () => 'ok')).toMatchObject({ kind: 'reserved', usedToday: 0 });
    });
  });
});

describeWithPostgres('ApprovalRequestRepository on PostgreSQL', () => {
  const schema = useTestSchema('approvals');
  let connection: DatabaseConnection;
  let other: DatabaseConnection;
  let clock: ManualClock;
  let requests: ApprovalRequestRepository;
  const agent: Actor = { operatorId: 'op-agent', name: 'Alice', role: 'AGENT', onBehalfOf: null };
  const supervisor: Actor = { operatorId: 'op-sup', name: 'Sam', role: 'SUPERVISOR', onBehalfOf: 'sam@support' };
  beforeAll(async () => {
    connection = await openDatabase({ kind: 'postgres', url: TEST_DATABASE_URL }, { schema: schema.name });
    other = await openDatabase({ kind: 'postgres', url: TEST_DATABASE_URL }, { schema: schema.name });
  });
  beforeEach(() => {
    // A whole millisecond clock of its own per test, far from others, so list order is by this test's rows.
    clock = new ManualClock(Date.UTC(2030, 0, 1) + Math.floor(Math.random() * 1e9) * 1000);
    requests = new ApprovalRequestRepository(connection.db, clock);
  });
  afterAll(async () => {
    await connection.close();
    await other.close();
  });

  function newRequest(overrides: Partial<NewApprovalRequest> = {}): NewApprovalRequest {
    const id = randomUUID();
    return {
      id,
      idempotencyKey: `key-${id}`,
      fingerprint: 'fp-500',
      userId: 'user_approve',
      currency: 'CRD',
      amount: 500,
      reason: 'ticket 7: outage credit',
      requestedBy: agent,
      ...overrides,
    };
  }

  it('creates a PENDING request expiring in 24 h; the same key finds it; another fingerprint is a mismatch', async () => {
    const input = newRequest();
    const created = await requests.createOrFind(input);
    expect(created).toEqual({
      kind: 'created',
      request: {
        id: input.id,
        idempotencyKey: input.idempotencyKey,
        fingerprint: 'fp-500',
        userId: 'user_approve',
        currency: 'CRD',
        amount: 500,
        reason: 'ticket 7: outage credit',
        requestedByOperatorId: 'op-agent',
        requestedByName: 'Alice',
        requestedByRole: 'AGENT',
        reversesId: null,
        requestedByOnBehalfOf: null,
        status: 'PENDING',
        decidedByOperatorId: null,
        decidedByName: null,
        decidedByRole: null,
        decidedByOnBehalfOf: null,
        decidedAt: null,
        decisionReason: null,
        adjustmentId: null,
        createdAt: new Date(clock.now()),
        expiresAt: new Date(clock.now() + APPROVAL_TTL_MS),
      },
    });
    const again = await requests.createOrFind({ ...input, id: randomUUID() });
    expect(again).toEqual({ kind: 'existing', request: created.request });
    const reused = await requests.createOrFind({ ...input, id: randomUUID(), fingerprint: 'fp-other' });
    expect(reused).toEqual({ kind: 'mismatch', request: created.request });
    expect(await admin(schema.name, 'select count(*)::int as n from approval_requests where idempotency_key = $1', [input.idempotencyKey])).toEqual([{ n: 1 }]);
  });

  it('approves exactly once when two deciders on two instances race', async () => {
    const { request } = await requests.createOrFind(newRequest());
    const deciders = [requests, new ApprovalRequestRepository(other.db, clock)];
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        deciders[i % 2].decide(request.id, { status: 'APPROVED', decidedBy: { ...supervisor, name: `Sam ${i}` }, adjustmentId: `adj-${i}` }),
      ),
    );
    const winners = results.filter((r) => r.kind === 'decided');
    expect(winners).toHaveLength(1);
    const winner = winners[0].kind === 'decided' ? winners[0].request : null;
    expect(winner).toMatchObject({ status: 'APPROVED', decidedByOperatorId: 'op-sup', decidedByOnBehalfOf: 'sam@support', decidedAt: new Date(clock.now()) });
    const index = Number(winner!.decidedByName!.slice(4));
    expect(winner!.adjustmentId).toBe(`adj-${index}`);
    for (const loser of results.filter((r) => r.kind !== 'decided')) expect(loser).toEqual({ kind: 'not_pending', request: winner });
  });

  it('rejects with a reason; deciding again is not_pending; an unknown id is not_found', async () => {
    const { request } = await requests.createOrFind(newRequest());
    const rejected = await requests.decide(request.id, { status: 'REJECTED', decidedBy: supervisor, reason: 'no ticket' });
    expect(rejected).toMatchObject({ kind: 'decided', request: { status: 'REJECTED', decisionReason: 'no ticket', adjustmentId: null } });
    expect(await requests.decide(request.id, { status: 'APPROVED', decidedBy: supervisor, adjustmentId: 'adj' })).toMatchObject({
      kind: 'not_pending',
      request: { status: 'REJECTED' },
    });
    expect(await requests.decide(randomUUID(), { status: 'REJECTED', decidedBy: supervisor, reason: 'x' })).toEqual({ kind: 'not_found' });
  });

  it('reads a PENDING request past 24 h as EXPIRED and refuses to approve it', async () => {
    const { request } = await requests.createOrFind(newRequest());
    clock.advance(APPROVAL_TTL_MS - 1);
    expect(await requests.findById(request.id)).toMatchObject({ status: 'PENDING' });
    clock.advance(1);
    expect(await requests.findById(request.id)).toMatchObject({ status: 'EXPIRED' });
    expect(await requests.findByIdempotencyKey(request.idempotencyKey)).toMatchObject({ status: 'EXPIRED' });
    expect(await requests.decide(request.id, { status: 'APPROVED', decidedBy: supervisor, adjustmentId: 'adj' })).toMatchObject({
      kind: 'not_pending',
      request: { status: 'EXPIRED', decidedAt: null },
    });
    expect(await requests.createOrFind({ ...newRequest(), idempotencyKey: request.idempotencyKey })).toMatchObject({
      kind: 'existing',
      request: { id: request.id, status: 'EXPIRED' },
    });
    expect(await requests.expireDue()).toBeGreaterThanOrEqual(1);
    expect(await admin(schema.name, 'select status from approval_requests where id = $1', [request.id])).toEqual([{ status: 'EXPIRED' }]);
  });

  it('lists newest first by status as it reads now, with cursor paging', async () => {
    // Its own key space and times: list is global, so filter this test's rows by time-ordered ids.
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { request } = await requests.createOrFind(newRequest({ reason: `list ${i}` }));
      made.push(request.id);
      clock.advance(1000);
    }
    await requests.decide(made[1], { status: 'REJECTED', decidedBy: supervisor, reason: 'no' });
    await requests.decide(made[3], { status: 'APPROVED', decidedBy: supervisor, adjustmentId: 'adj-3' });
    // 24 h after the first was made: it (and only it) has expired.
    clock.time = (await requests.findById(made[0]))!.expiresAt.getTime();

    const mine = (ids: { id: string }[]) => ids.map((r) => r.id).filter((id) => made.includes(id));
    const page1 = await requests.list(undefined, 2);
    expect(page1.hasNextPage).toBe(true);
    // Other tests' rows are older (their clocks start elsewhere) or newer; walk every page and keep ours.
    const all: string[] = [];
    let after: string | null = null;
    do {
      const page: Awaited<ReturnType<ApprovalRequestRepository['list']>> = await requests.list(undefined, 2, after);
      all.push(...mine(page.nodes));
      after = page.hasNextPage ? page.endCursor : null;
    } while (after);
    expect(all).toEqual([...made].reverse());

    const byStatus = async (status: 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED') => mine((await requests.list(status, 100)).nodes);
    expect(await byStatus('PENDING')).toEqual([made[4], made[2]]);
    expect(await byStatus('APPROVED')).toEqual([made[3]]);
    expect(await byStatus('REJECTED')).toEqual([made[1]]);
    expect(await byStatus('EXPIRED')).toEqual([made[0]]);
    expect((await requests.list('EXPIRED', 100)).nodes.every((r) => r.status === 'EXPIRED')).toBe(true);
    await expect(requests.list(undefined, 0)).rejects.toMatchObject({ field: 'first' });
    await expect(requests.list(undefined, 101)).rejects.toMatchObject({ field: 'first' });
    await expect(requests.list(undefined, 10, 'not a cursor')).rejects.toMatchObject({ field: 'after' });
  });
});
