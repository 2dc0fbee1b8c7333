import type { ConfirmChannel, ConsumeMessage } from 'amqplib';

export type FailureStage = 'parse' | 'script' | 'database';

export interface DeadLetter {
  message: ConsumeMessage;
  stage: FailureStage;
  reason: string;
}

/**
 * Publishes failed messages, unchanged, to the dead-letter queue with why they failed in headers
 * (`x-fieldstation-stage`, `x-fieldstation-reason`) and waits for the broker to confirm them,
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
      this.channel.sendToQueue(this.deadLetterQueue, message.content, {
        persistent: true,
        contentType: message.properties.contentType,
        timestamp: Math.floor(Date.now() / 1000),
        headers: {
          ...message.properties.headers,
          'x-fieldstation-stage': stage,
          'x-fieldstation-reason': reason.slice(0, 1000),
          'x-original-exchange': message.fields.exchange,
          'x-original-routing-key': message.fields.routingKey,
        },
      });
    }
    await this.channel.waitForConfirms();
  }
}
