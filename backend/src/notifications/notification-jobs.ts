import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { TargetAddresses } from '../credentials/target-address';
import { StandingGrants } from '../grants/standing-grants.service';
import { OnJob } from '../jobs/job-handler.decorator';
import { JobName, type DeliveryJobData } from '../jobs/job-names';
import { DeliveryRefusedError, sendEmail, sendNtfy, sendWebhook } from './channel-senders';
import { NotificationChannel } from './notification-channel.entity';
import { NotificationDelivery } from './notification-delivery.entity';

/** The queue's default: 3 attempts, exponential backoff from 5 s (jobs/job-queue.service.ts). */
const MAX_ATTEMPTS = 3;

/**
 * The worker side: sends one delivery; a refusal is logged with the receiver's exact answer and
 * rethrown, so the queue retries it with backoff while other deliveries go on.
 */
@Injectable()
export class NotificationJobs {
  constructor(
    @InjectRepository(NotificationDelivery)
    private readonly deliveries: Repository<NotificationDelivery>,
    @InjectRepository(NotificationChannel)
    private readonly channels: Repository<NotificationChannel>,
    private readonly grants: StandingGrants,
    private readonly targets: TargetAddresses,
  ) {}

  @OnJob(JobName.NotificationDeliver)
  async deliver({ deliveryId }: DeliveryJobData): Promise<void> {
    const delivery = await this.deliveries.findOneBy({ id: deliveryId });
    if (!delivery || delivery.status !== 'pending') return;
    const channel = await this.channels.findOneBy({ id: delivery.channelId });
    if (!channel) return;
    const now = new Date();
    let answer: string;
    let ok = false;
    try {
      answer = await this.send(channel, delivery, now);
      ok = true;
    } catch (error) {
      if (!(error instanceof DeliveryRefusedError) && !(error instanceof SecretUnavailableError)) {
        throw error;
      }
      answer = error.message;
    }
    const attempts = [...delivery.attempts, { at: now.toISOString(), ok, answer }];
    const status = ok ? 'delivered' : attempts.length >= MAX_ATTEMPTS ? 'failed' : 'pending';
    await this.deliveries.update({ id: delivery.id }, { attempts, status });
    if (status === 'pending') throw new Error(`Delivery ${delivery.id} refused: retrying`);
  }

  private async send(channel: NotificationChannel, delivery: NotificationDelivery, now: Date) {
    // Webhook and ntfy: checked at connect time on the address connected to (pinned lookup).
    const lookup = this.targets.pinnedLookup('url');
    if (channel.kind === 'ntfy') return sendNtfy(channel.url, delivery.message, lookup);
    if (channel.kind === 'email') {
      // Resolved once and checked here; nodemailer connects to that address (no second lookup).
      let address: string;
      try {
        address = await this.targets.allowedAddress(
          'smtp.host',
          'CHANNEL_ADDRESS_NOT_ALLOWED',
          channel.smtp!.host,
        );
      } catch (error) {
        throw new DeliveryRefusedError(`Not sent: ${(error as Error).message}`);
      }
      const password = channel.secret ? await this.secret(channel) : null;
      return sendEmail(channel.smtp!, password, delivery.message, address);
    }
    const secret = await this.secret(channel);
    return sendWebhook(channel.url, secret, delivery.id, delivery.message, now, lookup);
  }

  /** Opens the channel's secret through its standing grant: no session is needed. */
  private async secret(channel: NotificationChannel): Promise<string> {
    if (!channel.secret || !channel.grantId) throw new SecretUnavailableError();
    try {
      const { dataKey } = await this.grants.open(channel.grantId);
      return dataKey.openField(channel.id, 'secret', channel.secret);
    } catch {
      throw new SecretUnavailableError();
    }
  }
}

class SecretUnavailableError extends Error {
  constructor() {
    super("The channel's standing grant is revoked or missing: create the channel again");
  }
}
