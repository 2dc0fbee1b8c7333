import { describe, expect, it } from 'vitest';
import { toLineProtocol } from './line-protocol';

describe('toLineProtocol', () => {
  it('writes numbers as floats, booleans, strings and flattened objects', () => {
    const line = toLineProtocol({
      measurement: 'room',
      device: 'pi1',
      time: 1714564800456,
      data: {
        temp: 21,
        humidity: 40.5,
        on: true,
        label: 'say "hi"',
        nested: { a: 1 },
        skipped: null,
      },
    });
    expect(line).toBe(
      'room,device=pi1 temp=21.0,humidity=40.5,on=true,label="say \\"hi\\"",nested.a=1.0 1714564800456',
    );
  });

  it('escapes separators in names', () => {
    expect(
      toLineProtocol({ measurement: 'my room,x', device: 'a=b c', time: 1, data: { 'f k': 1 } }),
    ).toBe('my\\ room\\,x,device=a\\=b\\ c f\\ k=1.0 1');
  });

  it('yields no line for a reading without fields', () => {
    expect(
      toLineProtocol({ measurement: 'm', device: 'd', time: 1, data: { list: [1, 2] } }),
    ).toBeUndefined();
  });
});
