/** Counts events a subscriber was given and has not finished sending; shutdown waits for it to empty. */
export interface DeliveryTracker {
  begin(): void;
  end(finished?: number): void;
}

/**
 * A subscription's events as an async iterator, with a bounded buffer: a client that stops reading loses
 * its oldest events (each carries the latest balance) rather than growing the server's memory. An event
 * counts as delivered when the consumer asks for the next, since graphql-ws asks only after writing the
 * previous one. `return()` releases the subscription exactly once.
 */
export class EventQueue<T> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private waiting?: (result: IteratorResult<T>) => void;
  /** An event was handed to the consumer, which has not asked for the next one yet. */
  private handedOut = false;
  private finished = false;
  /** Set once the subscription exists; called once when the consumer stops. */
  release: () => Promise<void> = async () => undefined;

  constructor(
    private readonly capacity: number,
    private readonly onDrop: () => void,
    private readonly deliveries: DeliveryTracker,
  ) {}

  push(value: T): void {
    if (this.finished) return;
    this.deliveries.begin();
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      this.handedOut = true;
      resolve({ value, done: false });
      return;
    }
    if (this.buffer.length >= this.capacity) {
      this.buffer.shift();
      this.deliveries.end();
      this.onDrop();
    }
    this.buffer.push(value);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.handedOut) {
      this.handedOut = false;
      this.deliveries.end();
    }
    if (this.buffer.length > 0) {
      this.handedOut = true;
      return Promise.resolve({ value: this.buffer.shift()!, done: false });
    }
    if (this.finished) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  async return(): Promise<IteratorResult<T>> {
    await this.finish();
    return { value: undefined, done: true };
  }

  async throw(error?: unknown): Promise<IteratorResult<T>> {
    await this.finish();
    throw error;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  private async finish(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    this.deliveries.end(this.buffer.length + (this.handedOut ? 1 : 0));
    this.handedOut = false;
    this.buffer.length = 0;
    this.waiting?.({ value: undefined, done: true });
    this.waiting = undefined;
    await this.release();
  }
}
