import { ExpirySweep } from './expiry-sweep';

describe('ExpirySweep', () => {
  let now: number;
  let expired: string[];
  let sweep: ExpirySweep<{ name: string }>;
  const item = (name: string) => ({ name });

  beforeEach(() => {
    now = 1_000_000_000_000;
    expired = [];
    sweep = new ExpirySweep(
      (entry) => expired.push(entry.name),
      () => now,
    );
  });

  it('ends an item never before its expiry, at the first sweep once its second is over, once', () => {
    sweep.watch(item('a'), now + 1500);
    sweep.sweep();
    now += 1499;
    sweep.sweep();
    expect(expired).toEqual([]);
    now += 501;
    sweep.sweep();
    expect(expired).toEqual(['a']);
    now += 10_000;
    sweep.sweep();
    expect(expired).toEqual(['a']);
    expect(sweep.size).toBe(0);
  });

  it('ends only what is due, keeping later items for later sweeps', () => {
    sweep.watch(item('soon'), now + 1000);
    sweep.watch(item('later'), now + 5000);
    sweep.watch(item('already'), now - 1);
    sweep.sweep();
    expect(expired).toEqual(['already']);
    now += 1000;
    sweep.sweep();
    expect(expired).toEqual(['already', 'soon']);
    now += 4000;
    sweep.sweep();
    expect(expired).toEqual(['already', 'soon', 'later']);
  });

  it('never ends an item that was forgotten (closed) before it expired', () => {
    const closed = item('closed');
    sweep.watch(closed, now + 1000);
    sweep.watch(item('open'), now + 1000);
    sweep.forget(closed);
    now += 1000;
    sweep.sweep();
    expect(expired).toEqual(['open']);
    expect(sweep.size).toBe(0);
  });

  it('tolerates forget() from inside expire, as a closing socket does', () => {
    const sockets = [item('x'), item('y')];
    const selfForgetting: ExpirySweep<{ name: string }> = new ExpirySweep(
      (entry) => {
        expired.push(entry.name);
        selfForgetting.forget(entry);
      },
      () => now,
    );
    for (const socket of sockets) selfForgetting.watch(socket, now);
    selfForgetting.sweep();
    expect(expired).toEqual(['x', 'y']);
    expect(selfForgetting.size).toBe(0);
  });
});
