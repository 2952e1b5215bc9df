/**
 * Ends connections whose credential expires, with one shared timer instead of one per connection:
 * connections are grouped by the second they expire in, and each tick ends every group that is due.
 * A tick with nothing due costs one comparison, so 10,000 connections cost 10,000 set entries, no timers.
 */
export class ExpirySweep<T extends object> {
  private readonly due = new Map<number, Set<T>>();
  private readonly secondOf = new WeakMap<T, number>();
  private earliest = Number.POSITIVE_INFINITY;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly expire: (item: T) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Ticks every `intervalMs` (so an item ends at most that long after it expired); never holds the process open. */
  start(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => this.sweep(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Ends `item` at the first tick once the second `expiresAt` (epoch ms) falls in is over: never early. */
  watch(item: T, expiresAt: number): void {
    this.forget(item);
    const second = Math.ceil(expiresAt / 1000);
    let group = this.due.get(second);
    if (!group) this.due.set(second, (group = new Set()));
    group.add(item);
    this.secondOf.set(item, second);
    if (second < this.earliest) this.earliest = second;
  }

  /** The item went away by itself (closed): nothing to end any more. */
  forget(item: T): void {
    const second = this.secondOf.get(item);
    if (second === undefined) return;
    this.secondOf.delete(item);
    const group = this.due.get(second);
    group?.delete(item);
    if (group?.size === 0) this.due.delete(second);
  }

  get size(): number {
    let size = 0;
    for (const group of this.due.values()) size += group.size;
    return size;
  }

  sweep(): void {
    const nowSecond = this.now() / 1000;
    if (nowSecond < this.earliest) return;
    let earliest = Number.POSITIVE_INFINITY;
    const expired: T[] = [];
    for (const [second, group] of this.due) {
      if (second > nowSecond) {
        if (second < earliest) earliest = second;
        continue;
      }
      this.due.delete(second);
      for (const item of group) {
        this.secondOf.delete(item);
        expired.push(item);
      }
    }
    this.earliest = earliest;
    // Outside the loop: an `expire` that closes synchronously may call forget(), which must find nothing.
    for (const item of expired) this.expire(item);
  }
}
