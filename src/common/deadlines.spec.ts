import { Deadlines } from './deadlines';

describe('Deadlines', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const clock = { now: () => Date.now() };

  it('expires each deadline once its duration has passed, in the order they were set, unless cleared first', () => {
    const deadlines = new Deadlines(1_000, clock);
    const expired: string[] = [];
    const a = {};
    const b = {};
    const c = {};
    deadlines.set(a, () => expired.push('a'));
    jest.advanceTimersByTime(300);
    deadlines.set(b, () => expired.push('b'));
    deadlines.set(c, () => expired.push('c'));
    deadlines.clear(b);
    expect(deadlines.size).toBe(2);

    jest.advanceTimersByTime(699);
    expect(expired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(expired).toEqual(['a']);
    // c was set 300 ms after a: not a millisecond early.
    jest.advanceTimersByTime(299);
    expect(expired).toEqual(['a']);
    jest.advanceTimersByTime(1);
    expect(expired).toEqual(['a', 'c']);
    expect(deadlines.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('uses one timer however many deadlines are pending', () => {
    const deadlines = new Deadlines(1_000, clock);
    const expired: number[] = [];
    for (let i = 0; i < 100; i++) deadlines.set({}, () => expired.push(i));
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(1_000);
    expect(expired).toHaveLength(100);
    expect(expired.slice(0, 3)).toEqual([0, 1, 2]);
  });

  it('restarts the deadline of a key set again, and arms for it when the older ones are gone', () => {
    const deadlines = new Deadlines(1_000, clock);
    const expired: string[] = [];
    const key = {};
    deadlines.set(key, () => expired.push('first'));
    jest.advanceTimersByTime(600);
    deadlines.set(key, () => expired.push('second'));
    jest.advanceTimersByTime(400);
    expect(expired).toEqual([]);
    jest.advanceTimersByTime(600);
    expect(expired).toEqual(['second']);
  });

  it('expires a deadline set by an expiring callback a whole duration later', () => {
    const deadlines = new Deadlines(500, clock);
    const expired: number[] = [];
    deadlines.set({}, () => {
      expired.push(Date.now());
      deadlines.set({}, () => expired.push(Date.now()));
    });
    const start = Date.now();
    jest.advanceTimersByTime(500);
    // The one timer only: a callback's set() arms nothing beside the timer the expiry loop arms.
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(500);
    expect(expired.map((at) => at - start)).toEqual([500, 1_000]);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('arms one timer again when expiring callbacks each set a deadline, chain after chain', () => {
    const deadlines = new Deadlines(100, clock);
    const expiries = [0, 0, 0];
    // Three chains: each expiry sets the next deadline of its chain, ten expiries per chain.
    const renew = (chain: number): void => {
      if (++expiries[chain] < 10) deadlines.set({}, () => renew(chain));
    };
    for (let chain = 0; chain < 3; chain++) deadlines.set({}, () => renew(chain));
    for (let step = 0; step < 20; step++) {
      jest.advanceTimersByTime(100);
      expect(jest.getTimerCount()).toBeLessThanOrEqual(1);
    }
    expect(expiries).toEqual([10, 10, 10]);
    expect(deadlines.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('does not keep the process alive by itself', () => {
    jest.useRealTimers();
    const deadlines = new Deadlines(60_000);
    const key = {};
    deadlines.set(key, () => undefined);
    const timer = (deadlines as unknown as { timer: NodeJS.Timeout }).timer;
    expect(timer.hasRef()).toBe(false);
    deadlines.clear(key);
    clearTimeout(timer);
  });
});
