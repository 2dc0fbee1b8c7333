import { onScopeDispose, ref, watch, type Ref } from 'vue';
import { api } from '../../api/client';
import { failureOf } from '../../api/errors';
import type { DeploymentStatus, LogLine, StatusChange } from './deployment-events';
import { createSseParser, type SseEvent } from './sse-parser';

/** Silence longer than this (the server sends a heartbeat every 15 s) means a dead connection. */
const STALL_MS = 40_000;
const MAX_BACKOFF_MS = 15_000;

export type StreamState = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'ended' | 'failed';

/** One connection attempt: the event stream, or why there is none. */
export type EventStreamAnswer =
  | { ok: true; body: ReadableStream<Uint8Array<ArrayBuffer>> }
  /** `retry`: worth asking again (5xx, no body); otherwise final (e.g. 404). */
  | { ok: false; retry: boolean; message: string };

export type OpenEventStream = (
  deploymentId: string,
  lastSeq: number,
  signal: AbortSignal,
) => Promise<EventStreamAnswer>;

/** GET /deployments/:id/events through the app's client (bearer token, refresh on 401). */
export const openEventStream: OpenEventStream = async (id, lastSeq, signal) => {
  const result = await api.GET('/api/v1/deployments/{id}/events', {
    params: {
      path: { id },
      header: lastSeq > 0 ? { 'Last-Event-ID': String(lastSeq) } : undefined,
    },
    parseAs: 'stream',
    signal,
  });
  if (result.response.ok && result.data) return { ok: true, body: result.data };
  return {
    ok: false,
    retry: result.response.ok || result.response.status >= 500,
    message: errorMessage(result),
  };
};

/**
 * Follows one deployment's event stream: the stored log, then live lines, until `end`.
 * EventSource cannot send the bearer token, so this reads the SSE stream with fetch and, when
 * the connection drops or goes silent, reconnects with `Last-Event-ID` so no line is lost or
 * repeated.
 */
export function useDeploymentStream(
  deploymentId: Ref<string | undefined>,
  open: OpenEventStream = openEventStream,
  backoffMs = 500,
) {
  const lines = ref<LogLine[]>([]);
  const status = ref<DeploymentStatus>();
  const step = ref<string | null>(null);
  const error = ref<string | null>(null);
  const state = ref<StreamState>('idle');
  /** Why the stream stopped for good (e.g. the deployment is gone). */
  const streamError = ref<string>();
  let controller: AbortController | undefined;

  function onEvent(event: SseEvent, seen: { lastSeq: number }): boolean {
    if (event.event === 'log') {
      const line = JSON.parse(event.data) as LogLine;
      if (line.seq > seen.lastSeq) {
        seen.lastSeq = line.seq;
        lines.value.push(line);
      }
    } else if (event.event === 'status') {
      const change = JSON.parse(event.data) as StatusChange;
      status.value = change.status;
      step.value = change.step;
      error.value = change.error;
    } else if (event.event === 'end') {
      return true;
    }
    return false;
  }

  async function follow(id: string, signal: AbortSignal): Promise<void> {
    const seen = { lastSeq: 0 };
    let attempt = 0;
    while (!signal.aborted) {
      state.value = attempt === 0 ? 'connecting' : 'reconnecting';
      const stall = new AbortController();
      let stallTimer: ReturnType<typeof setTimeout> | undefined;
      const armStall = () => {
        clearTimeout(stallTimer);
        stallTimer = setTimeout(() => stall.abort(), STALL_MS);
      };
      try {
        armStall();
        const answer = await open(id, seen.lastSeq, AbortSignal.any([signal, stall.signal]));
        if (!answer.ok) {
          if (!answer.retry) {
            streamError.value = answer.message;
            state.value = 'failed';
            return;
          }
          throw new Error(answer.message);
        }
        state.value = 'live';
        const reader = answer.body.pipeThrough(new TextDecoderStream()).getReader();
        const feed = createSseParser();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          armStall();
          attempt = 0;
          for (const event of feed(value)) {
            if (onEvent(event, seen)) {
              state.value = 'ended';
              await reader.cancel();
              return;
            }
          }
        }
      } catch (failure) {
        // A dropped or stalled connection is expected here: reconnect from the last line seen.
        if (signal.aborted) return;
        console.debug('deployment stream interrupted, reconnecting', failure);
      } finally {
        clearTimeout(stallTimer);
      }
      attempt += 1;
      state.value = 'reconnecting';
      const wait = Math.min(MAX_BACKOFF_MS, backoffMs * 2 ** Math.min(attempt - 1, 5));
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  watch(
    deploymentId,
    (id) => {
      controller?.abort();
      lines.value = [];
      status.value = undefined;
      step.value = null;
      error.value = null;
      streamError.value = undefined;
      state.value = 'idle';
      if (!id) return;
      controller = new AbortController();
      void follow(id, controller.signal);
    },
    { immediate: true },
  );
  onScopeDispose(() => controller?.abort());

  return { lines, status, step, error, state, streamError };
}

function errorMessage(result: Parameters<typeof failureOf>[0]): string {
  return result.response.ok ? 'The server sent no event stream' : failureOf(result).message;
}
