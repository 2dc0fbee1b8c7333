/** Keeps the last `capacity` items pushed; older ones are dropped. Memory is bounded by the capacity. */
export class RingBuffer<T> {
  private readonly items: T[] = [];
  private next = 0;
  private dropped = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`ring buffer capacity must be a positive integer, got ${capacity}`);
    }
  }

  push(item: T): void {
    if (this.items.length < this.capacity) {
      this.items.push(item);
      return;
    }
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
    this.dropped++;
  }

  /** Oldest first. */
  toArray(): T[] {
    return [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
  }

  /** How many items were pushed out by newer ones. */
  get droppedCount(): number {
    return this.dropped;
  }
}
