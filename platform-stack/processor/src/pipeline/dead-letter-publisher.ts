import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { messageSource, ORIGIN_HEADERS } from '../contract/reading';

export type FailureStage = 'parse' | 'script' | 'database';

export interface DeadLetter {
  message: ConsumeMessage;
  stage: FailureStage;
  reason: string;
}

/**
 * Publishes failed messages, unchanged, to the dead-letter queue with why they failed in headers
 * (`x-fieldstation-stage`, `x-fieldstation-reason`) and where they came from (`x-original-*`,
 * see `messageSource`) and waits for the broker to confirm them,
 * so the originals can be acknowledged.
 */
export class DeadLetterPublisher {
  constructor(
    private readonly channel: ConfirmChannel,
    private readonly deadLetterQueue: string,
  ) {}

  async publish(letters: DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    for (const { message, stage, reason } of letters) {
      // A replayed dead letter keeps its first origin; the user_id is recorded because a replay
      // cannot set it again (RabbitMQ allows only the publisher's own login there).
      const source = messageSource(message);
      const headers: Record<string, unknown> = {
        ...message.properties.headers,
        'x-fieldstation-stage': stage,
        'x-fieldstation-reason': reason.slice(0, 1000),
        [ORIGIN_HEADERS.exchange]: source.exchange,
        [ORIGIN_HEADERS.routingKey]: source.routingKey,
      };
      if (source.userId === undefined) delete headers[ORIGIN_HEADERS.userId];
      else headers[ORIGIN_HEADERS.userId] = source.userId;
      this.channel.sendToQueue(this.deadLetterQueue, message.content, {
        persistent: true,
        contentType: message.properties.contentType,
        timestamp: Math.floor(Date.now() / 1000),
        headers,
      });
    }
    await this.channel.waitForConfirms();
  }
}
