import { describe, expect, it } from 'vitest';
import { effectScope, ref } from 'vue';
import { useDeploymentStream, type OpenEventStream } from './use-deployment-stream';

const log = (seq: number) =>
  `id: ${seq}\nevent: log\ndata: ${JSON.stringify({ seq, level: 'info', step: 'configuring', message: `line ${seq}`, data: null, createdAt: '2026-01-01T00:00:00Z' })}\n\n`;

function streamOf(...chunks: string[]): ReadableStream<Uint8Array<ArrayBuffer>> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
};

describe('useDeploymentStream', () => {
  it('reconnects after a dropped connection with Last-Event-ID and repeats no line', async () => {
    const asked: number[] = [];
    const answers = [
      // The first connection drops after two lines (a repeated line is ignored).
      streamOf(log(1), log(2), log(2)),
      // The server resumes after line 2, finishes, and says so.
      streamOf(
        log(3),
        'event: status\ndata: {"status":"succeeded","step":"verifying","error":null}\n\n',
        'event: end\ndata: {}\n\n',
      ),
    ];
    const open: OpenEventStream = async (_id, lastSeq) => {
      asked.push(lastSeq);
      return { ok: true, body: answers.shift()! };
    };
    const scope = effectScope();
    const stream = scope.run(() => useDeploymentStream(ref('d1'), open, 1))!;
    await until(() => stream.state.value === 'ended');
    expect(asked).toEqual([0, 2]);
    expect(stream.lines.value.map((line) => line.message)).toEqual(['line 1', 'line 2', 'line 3']);
    expect(stream.status.value).toBe('succeeded');
    scope.stop();
  });

  it('stops with the reason when the deployment cannot be streamed', async () => {
    const open: OpenEventStream = async () => ({
      ok: false,
      retry: false,
      message: 'No such deployment',
    });
    const scope = effectScope();
    const stream = scope.run(() => useDeploymentStream(ref('gone'), open, 1))!;
    await until(() => stream.state.value === 'failed');
    expect(stream.streamError.value).toBe('No such deployment');
    scope.stop();
  });
});
