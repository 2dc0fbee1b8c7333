export interface SseEvent {
  id?: string;
  event: string;
  data: unknown;
}

/**
 * Reads a text/event-stream response, calling `onEvent` per event, until the server closes
 * the stream or `onEvent` returns true (then the reader is cancelled).
 */
export async function readSse(
  response: Response,
  onEvent: (event: SseEvent) => boolean | void,
): Promise<void> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let boundary: number;
    while ((boundary = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      const event: SseEvent = { event: 'message', data: undefined };
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) event.id = line.slice(4);
        else if (line.startsWith('event: ')) event.event = line.slice(7);
        else if (line.startsWith('data: ')) event.data = JSON.parse(line.slice(6));
      }
      if (block.startsWith(':')) continue;
      if (onEvent(event)) {
        await reader.cancel();
        return;
      }
    }
  }
}
