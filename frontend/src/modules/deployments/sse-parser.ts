/** One Server-Sent Event as the stream delivers it. */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/**
 * An incremental `text/event-stream` parser (WHATWG HTML §9.2): feed it decoded chunks as they
 * arrive, it returns the events completed so far. Comments (heartbeats) are dropped.
 */
export function createSseParser(): (chunk: string) => SseEvent[] {
  let buffer = '';
  let id: string | undefined;
  let event = '';
  let data: string[] = [];

  return (chunk) => {
    buffer += chunk;
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop() ?? '';
    const events: SseEvent[] = [];
    for (const line of lines) {
      if (line === '') {
        if (data.length > 0) events.push({ id, event: event || 'message', data: data.join('\n') });
        event = '';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') data.push(value);
      else if (field === 'event') event = value;
      else if (field === 'id') id = value;
    }
    return events;
  };
}
