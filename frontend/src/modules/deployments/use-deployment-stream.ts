import { onScopeDispose, ref, watch, type Ref } from 'vue';
import { api } from '../../api/client';
import { unwrap } from '../../api/errors';
import type { DeploymentStatus, LogLine, StatusChange } from './deployment-events';
import { createSseParser, type SseEvent } from './sse-parser';

/** Silence longer than this (the server sends a heartbeat every 15 s) means a dead connection. */
const STALL_MS = 40_000;
const MAX_BACKOFF_MS = 15_000;

export type StreamState = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'ended' | 'failed';

/**
 * Follows one deployment's event stream: the stored log, then live lines, until `end`.
 * EventSource cannot send the bearer token, so this reads the SSE stream with fetch (through the
 * app's client, which refreshes an expired token) and, when the connection drops, reconnects with
 * `Last-Event-ID` so no line is lost or repeated.
 */
export function useDeploymentStream(deploymentId: Ref<string | undefined>) {
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
        const result = await api.GET('/api/v1/deployments/{id}/events', {
          params: {
            path: { id },
            header: seen.lastSeq > 0 ? { 'Last-Event-ID': String(seen.lastSeq) } : undefined,
          },
          parseAs: 'stream',
          signal: AbortSignal.any([signal, stall.signal]),
        });
        if (!result.response.ok && result.response.status < 500) {
          // An answer such as 404 will not change by asking again.
          streamError.value = errorMessage(result);
          state.value = 'failed';
          return;
        }
        const body = result.data;
        if (!result.response.ok || !body) throw new Error('The event stream is unavailable');
        state.value = 'live';
        const reader = body.pipeThrough(new TextDecoderStream()).getReader();
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
        if (signal.aborted) return;
        console.debug('deployment stream interrupted, reconnecting', failure);
      } finally {
        clearTimeout(stallTimer);
      }
      attempt += 1;
      state.value = 'reconnecting';
      const wait = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(attempt, 5));
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

function errorMessage(result: Parameters<typeof unwrap>[0]): string {
  try {
    unwrap(result);
    return 'The event stream ended';
  } catch (failure) {
    return (failure as Error).message;
  }
}
