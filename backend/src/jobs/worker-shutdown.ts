import { Injectable } from '@nestjs/common';

/**
 * Aborted when the worker stops (SIGTERM, Ctrl-C): running jobs stop their current step and go
 * back to the queue unfinished, so the next worker resumes them instead of this process
 * waiting for a 40-minute launch to end.
 */
@Injectable()
export class WorkerShutdown {
  private readonly controller = new AbortController();

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  begin(): void {
    this.controller.abort();
  }
}
