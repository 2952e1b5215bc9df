import { ManualClock } from '../common/testing/manual-clock';
import type { OperatorRecord } from './operator.repository';
import { OperatorTokenCache } from './token-cache';

function operator(id: string): OperatorRecord {
  return {
    id,
    name: `op ${id}`,
    role: 'AGENT',
    maxAdjustment: null,
    dailyLimit: null,
    tokenHash: `hash-${id}`,
    tokenPrefix: 'cgo_abcd',
    createdAt: new Date(0),
    createdByOperatorId: null,
    createdByName: 'admin',
    createdByRole: 'ADMIN',
    createdByOnBehalfOf: null,
    revokedAt: null,
    lastUsedAt: null,
  };
}

/** A loader over a table the test edits, counting its calls, with an optional gate to hold a lookup open. */
function loader(table: Map<string, OperatorRecord>) {
  const calls: string[] = [];
  let gate: Promise<void> | undefined;
  const load = async (hash: string) => {
    calls.push(hash);
    const answer = table.get(hash) ?? null;
    if (gate) await gate;
    return answer;
  };
  return {
    load,
    calls,
    hold(): () => void {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

describe('OperatorTokenCache', () => {
  const alice = operator('alice');
  let clock: ManualClock;
  let table: Map<string, OperatorRecord>;
  beforeEach(() => {
    clock = new ManualClock(1_000_000);
    table = new Map([[alice.tokenHash, alice]]);
  });

  it('answers from memory within the TTL, and asks again once it has passed', async () => {
    const cache = new OperatorTokenCache(clock, { maxEntries: 10, ttlMs: 1000 });
    const { load, calls } = loader(table);
    expect(await cache.resolve(alice.tokenHash, load)).toBe(alice);
    clock.advance(999);
    expect(await cache.resolve(alice.tokenHash, load)).toBe(alice);
    expect(calls).toHaveLength(1);
    clock.advance(1);
    expect(await cache.resolve(alice.tokenHash, load)).toBe(alice);
    expect(calls).toHaveLength(2);
  });

  it('lets a revocation made elsewhere through for at most the TTL (1 s), never longer', async () => {
    const cache = new OperatorTokenCache(clock, { maxEntries: 10, ttlMs: 1000 });
    const { load } = loader(table);
    await cache.resolve(alice.tokenHash, load);
    table.delete(alice.tokenHash); // revoked by another instance: findByTokenHash no longer finds it
    clock.advance(500);
    expect(await cache.resolve(alice.tokenHash, load)).toBe(alice);
    clock.advance(500);
    expect(await cache.resolve(alice.tokenHash, load)).toBeNull();
  });

  it('forgets a revoked operator at once on the instance that revoked it', async () => {
    const cache = new OperatorTokenCache(clock, { maxEntries: 10, ttlMs: 1000 });
    const bob = operator('bob');
    table.set(bob.tokenHash, bob);
    const { load, calls } = loader(table);
    await cache.resolve(alice.tokenHash, load);
    await cache.resolve(bob.tokenHash, load);
    table.delete(alice.tokenHash);
    cache.invalidateOperator('alice');
    expect(await cache.resolve(alice.tokenHash, load)).toBeNull();
    expect(await cache.resolve(bob.tokenHash, load)).toBe(bob);
    expect(calls).toEqual([alice.tokenHash, bob.tokenHash, alice.tokenHash]);
  });

  it('does not store, nor share, a lookup that was under way when the operator was revoked', async () => {
    const cache = new OperatorTokenCache(clock, { maxEntries: 10, ttlMs: 1000 });
    const slow = loader(table);
    const release = slow.hold();
    const before = cache.resolve(alice.tokenHash, slow.load); // reads alice as live, then waits
    await Promise.resolve();
    table.delete(alice.tokenHash);
    cache.invalidateOperator('alice');
    const fresh = loader(table);
    expect(await cache.resolve(alice.tokenHash, fresh.load)).toBeNull(); // did not join the stale lookup
    release();
    expect(await before).toBe(alice); // began before the revocation
    // The stale answer arrived last and was dropped: the cache still says null, without asking again.
    expect(await cache.resolve(alice.tokenHash, fresh.load)).toBeNull();
    expect(fresh.calls).toHaveLength(1);
  });

  it('shares one lookup between concurrent misses of one token', async () => {
    const cache = new OperatorTokenCache(clock, { maxEntries: 10, ttlMs: 1000 });
    const source = loader(table);
    const release = source.hold();
    const answers = Array.from({ length: 20 }, () => cache.resolve(alice.tokenHash, source.load));
    release();
    expect(await Promise.all(answers)).toEqual(Array(20).fill(alice));
    expect(source.calls).toHaveLength(1);
  });

  it('caches unknown tokens too, within the same bound', async () => {
    const cache = new OperatorTokenCache(clock, { maxEntries: 10, ttlMs: 1000 });
    const { load, calls } = loader(table);
    expect(await cache.resolve('nobody', load)).toBeNull();
    expect(await cache.resolve('nobody', load)).toBeNull();
    expect(calls).toEqual(['nobody']);
  });

  it('keeps at most maxEntries, evicting the least recently used', async () => {
    const cache = new OperatorTokenCache(clock, { maxEntries: 3, ttlMs: 1000 });
    const { load, calls } = loader(table);
    for (const hash of ['a', 'b', 'c']) await cache.resolve(hash, load);
    await cache.resolve('a', load); // a is now the most recent; b the oldest
    await cache.resolve('d', load);
    expect(cache.size).toBe(3);
    calls.length = 0;
    for (const hash of ['a', 'c', 'd']) await cache.resolve(hash, load);
    expect(calls).toEqual([]);
    await cache.resolve('b', load);
    expect(calls).toEqual(['b']);
    expect(cache.size).toBe(3);
  });

  it('does not cache a failed lookup', async () => {
    const cache = new OperatorTokenCache(clock, { maxEntries: 10, ttlMs: 1000 });
    const failing = jest.fn().mockRejectedValueOnce(new Error('db down')).mockResolvedValueOnce(alice);
    await expect(cache.resolve(alice.tokenHash, failing)).rejects.toThrow('db down');
    expect(await cache.resolve(alice.tokenHash, failing)).toBe(alice);
    expect(failing).toHaveBeenCalledTimes(2);
  });

  it('refuses a TTL over one second, or no room at all', () => {
    expect(() => new OperatorTokenCache(clock, { maxEntries: 10, ttlMs: 1001 })).toThrow(/ttlMs must be from 0 to 1000/);
    expect(() => new OperatorTokenCache(clock, { maxEntries: 0, ttlMs: 1000 })).toThrow(/maxEntries/);
  });
});
