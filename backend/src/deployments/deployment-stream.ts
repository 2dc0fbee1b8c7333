import { Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { DeploymentEvents, type DeploymentEvent } from './deployment-events';
import { FINISHED_STATUSES, type Deployment } from './deployment.entity';
import { DeploymentLog } from './deployment-log';

const HEARTBEAT_MS = 15_000;

/**
 * Streams a deployment as Server-Sent Events: a status snapshot, the stored log after the
 * client's Last-Event-ID, then live events, and `end` once the deployment has finished.
 * It subscribes before reading the stored log, so no line falls between the two.
 */
@Injectable()
export class DeploymentStream {
  constructor(
    private readonly events: DeploymentEvents,
    private readonly log: DeploymentLog,
  ) {}

  async stream(deployment: Deployment, afterSeq: number, response: Response): Promise<void> {
    response.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    let lastSeq = afterSeq;
    let replaying = true;
    const buffered: DeploymentEvent[] = [];
    let closed = false;

    const close = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      unsubscribe();
      response.end();
    };
    const send = (event: DeploymentEvent) => {
      if (closed) return;
      if (event.type === 'log') {
        if (event.seq <= lastSeq) return;
        lastSeq = event.seq;
        response.write(`id: ${event.seq}\nevent: log\ndata: ${JSON.stringify(event)}\n\n`);
        return;
      }
      response.write(`event: status\ndata: ${JSON.stringify(event)}\n\n`);
      if (FINISHED_STATUSES.includes(event.status)) {
        response.write('event: end\ndata: {}\n\n');
        close();
      }
    };

    const unsubscribe = await this.events.subscribe(deployment.id, (event) =>
      replaying ? buffered.push(event) : send(event),
    );
    const heartbeat = setInterval(() => response.write(': keep-alive\n\n'), HEARTBEAT_MS);
    response.on('close', close);

    for (const event of await this.log.listAfter(deployment.id, afterSeq)) send(event);
    replaying = false;
    for (const event of buffered) send(event);
    send({
      type: 'status',
      status: deployment.status,
      step: deployment.step,
      error: deployment.error,
    });
  }
}
