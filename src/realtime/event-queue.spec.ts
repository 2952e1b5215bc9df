import { InFlight } from '../lifecycle/lifecycle';
import { EventQueue } from './event-queue';

describe('EventQueue delivery accounting', () => {
  const setup = (capacity = 2) => {
    const deliveries = new InFlight();
    const dropped = jest.fn();
    return { deliveries, dropped, queue: new EventQueue<number>(capacity, dropped, deliveries) };
  };

  it('counts an event handed to a waiting consumer until the consumer asks for the next one', async () => {
    const { deliveries, queue } = setup();
    const first = queue.next();
    queue.push(1);
    expect(await first).toEqual({ value: 1, done: false });
    expect(deliveries.size).toBe(1);
    void queue.next();
    expect(deliveries.size).toBe(0);
    expect(await deliveries.whenIdle(0)).toBe(true);
  });

  it('counts buffered events, forgets dropped ones, and releases everything when the consumer stops', async () => {
    const { deliveries, dropped, queue } = setup(2);
    queue.push(1);
    queue.push(2);
    queue.push(3);
    expect([deliveries.size, dropped.mock.calls.length]).toEqual([2, 1]);
    expect(await queue.next()).toEqual({ value: 2, done: false });
    expect(deliveries.size).toBe(2);
    await queue.return();
    expect(deliveries.size).toBe(0);
    queue.push(4);
    expect(deliveries.size).toBe(0);
  });

  it('makes whenIdle wait for the last delivery, or give up after its bound', async () => {
    const { deliveries, queue } = setup();
    queue.push(1);
    expect(await deliveries.whenIdle(10)).toBe(false);
    const idle = deliveries.whenIdle(5000);
    await queue.next();
    void queue.next();
    expect(await idle).toBe(true);
  });
});
