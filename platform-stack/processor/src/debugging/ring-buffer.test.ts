import { describe, expect, it } from 'vitest';
import { RingBuffer } from './ring-buffer';

describe('RingBuffer', () => {
  it('keeps everything, oldest first, while under capacity', () => {
    const buffer = new RingBuffer<number>(3);
    buffer.push(1);
    buffer.push(2);
    expect(buffer.toArray()).toEqual([1, 2]);
    expect(buffer.droppedCount).toBe(0);
  });

  it('keeps only the last N, oldest first, and counts what it dropped', () => {
    const buffer = new RingBuffer<number>(3);
    for (let i = 1; i <= 8; i++) buffer.push(i);
    expect(buffer.toArray()).toEqual([6, 7, 8]);
    expect(buffer.droppedCount).toBe(5);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new RingBuffer(0)).toThrow(RangeError);
    expect(() => new RingBuffer(1.5)).toThrow(RangeError);
  });
});
