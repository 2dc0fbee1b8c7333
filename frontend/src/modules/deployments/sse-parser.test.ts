import { describe, expect, it } from 'vitest';
import { createSseParser } from './sse-parser';

describe('createSseParser', () => {
  it('parses events split across chunks and drops heartbeats', () => {
    const feed = createSseParser();
    expect(feed('id: 1\nevent: log\ndata: {"seq"')).toEqual([]);
    expect(feed(':1}\n\n: keep-alive\n\nevent: status\r\ndata: {}\r\n\r\n')).toEqual([
      { id: '1', event: 'log', data: '{"seq":1}' },
      { id: '1', event: 'status', data: '{}' },
    ]);
  });

  it('joins multi-line data and defaults the event name', () => {
    const feed = createSseParser();
    expect(feed('data: a\ndata: b\n\n')).toEqual([
      { id: undefined, event: 'message', data: 'a\nb' },
    ]);
  });
});
