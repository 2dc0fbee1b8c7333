import { randomUUID, X509Certificate } from 'node:crypto';
import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { SessionsService } from '../auth/sessions.service';
import type { AuthContext } from '../common/auth-context';
import { ApiError } from '../common/api-error';
import { TargetAddresses } from '../credentials/target-address';
import { StandingGrants } from '../grants/standing-grants.service';
import { JobQueue } from '../jobs/job-queue.service';
import { JobName } from '../jobs/job-names';
import { newWebhookSecret } from './channel-senders';
import { NotificationChannel } from './notification-channel.entity';
import {
  NotificationDelivery,
  type DeliveryAttempt,
  type NotificationMessage,
} from './notification-delivery.entity';
import type { CreateChannelInput } from './dto/notification-channel.dto';

/** Deliveries looked through for a channel's latest attempt (newer ones may still be queued). */
const LAST_ATTEMPT_SEARCH = 5;
const DELIVERIES_SHOWN = 100;

const invalid = (field: string, problem: string) =>
  new ApiError(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', `${field} ${problem}`, [
    { field, problems: [problem] },
  ]);

function isCertificate(pem: string): boolean {
  try {
    new X509Certificate(pem);
    return true;
  } catch {
    return false;
  }
}

const notFound = () =>
  new ApiError(HttpStatus.NOT_FOUND, 'CHANNEL_NOT_FOUND', 'No such notification channel');

/** The standing grant's purpose for one channel (DESIGN §11). */
export const channelGrantPurpose = (channelId: string) => `notification-channel:${channelId}`;

/**
 * A user's notification channels and their delivery logs. A webhook's signing secret (an email
 * channel's SMTP password) is sealed
 * under the user's data key; the standing grant created with the channel lets the worker open
 * it when an alert fires and nobody is signed in. Deleting the channel revokes the grant.
 */
@Injectable()
export class NotificationChannels {
  constructor(
    @InjectRepository(NotificationChannel)
    private readonly channels: Repository<NotificationChannel>,
    @InjectRepository(NotificationDelivery)
    private readonly deliveries: Repository<NotificationDelivery>,
    private readonly sessions: SessionsService,
    private readonly grants: StandingGrants,
    private readonly jobs: JobQueue,
    private readonly targets: TargetAddresses,
  ) {}

  list(userId: string): Promise<NotificationChannel[]> {
    return this.channels.find({ where: { userId }, order: { createdAt: 'ASC' } });
  }

  /** Each channel's latest attempt (of its latest delivery tried), by channel id. */
  async lastAttempts(channels: NotificationChannel[]): Promise<Map<string, DeliveryAttempt>> {
    const found = new Map<string, DeliveryAttempt>();
    for (const channel of channels) {
      const latest = await this.deliveries.find({
        where: { channelId: channel.id },
        order: { createdAt: 'DESC' },
        take: LAST_ATTEMPT_SEARCH,
      });
      const attempt = latest.find((delivery) => delivery.attempts.length > 0)?.attempts.at(-1);
      if (attempt) found.set(channel.id, attempt);
    }
    return found;
  }

  /** Answers the webhook's signing secret once, for the receiver to verify with. */
  async create(
    auth: AuthContext,
    input: CreateChannelInput,
  ): Promise<{ channel: NotificationChannel; signingSecret: string | null }> {
    const id = randomUUID();
    const { smtp } = input;
    if (input.kind !== 'email' && smtp) throw invalid('smtp', `is not used by ${input.kind}`);
    if (smtp?.caCertificatePem !== undefined && !isCertificate(smtp.caCertificatePem)) {
      throw invalid('smtp.caCertificatePem', 'is not a PEM certificate');
    }
    await assertChannelAddress(this.targets, input);
    const signingSecret = input.kind === 'webhook' ? newWebhookSecret() : null;
    const secret = signingSecret ?? smtp?.password ?? null;
    let sealed: string | null = null;
    let grantId: string | null = null;
    if (secret) {
      const dataKey = await this.sessions.dataKey(auth.sessionId);
      sealed = dataKey.sealField(id, 'secret', secret);
      grantId = await this.grants.issue(auth, channelGrantPurpose(id));
    }
    const channel = this.channels.create({
      id,
      userId: auth.userId,
      name: input.name,
      kind: input.kind,
      url: smtp ? `mailto:${smtp.to}` : input.url!,
      smtp: smtp
        ? {
            host: smtp.host,
            port: smtp.port,
            tls: smtp.tls,
            username: smtp.username ?? null,
            caCertificatePem: smtp.caCertificatePem ?? null,
            from: smtp.from,
            to: smtp.to,
          }
        : null,
      secret: sealed,
      grantId,
    });
    await this.channels.insert(channel);
    return { channel, signingSecret };
  }

  async remove(userId: string, id: string): Promise<void> {
    const channel = await this.getOwned(userId, id);
    await this.channels.delete({ id: channel.id });
    await this.grants.revokeFor(userId, channelGrantPurpose(channel.id));
  }

  /** "Send test": one message through the same path as an alert's. */
  async sendTest(userId: string, id: string): Promise<string> {
    const channel = await this.getOwned(userId, id);
    return this.queue(channel, {
      type: 'channel.test',
      title: 'Fieldstation test',
      text: `A test message to the channel "${channel.name}".`,
      platformId: null,
    });
  }

  /** Every channel of the user gets the message (each delivery retried on its own). */
  async notifyUser(userId: string, message: NotificationMessage): Promise<void> {
    for (const channel of await this.list(userId)) await this.queue(channel, message);
  }

  async log(userId: string, id: string): Promise<NotificationDelivery[]> {
    const channel = await this.getOwned(userId, id);
    return this.deliveries.find({
      where: { channelId: channel.id },
      order: { createdAt: 'DESC' },
      take: DELIVERIES_SHOWN,
    });
  }

  private async queue(channel: NotificationChannel, message: NotificationMessage) {
    const delivery = this.deliveries.create({
      id: randomUUID(),
      channelId: channel.id,
      message,
      status: 'pending',
      attempts: [],
    });
    await this.deliveries.insert(delivery);
    await this.jobs.queue({
      name: JobName.NotificationDeliver,
      data: { deliveryId: delivery.id },
      jobId: delivery.id,
    });
    return delivery.id;
  }

  private async getOwned(userId: string, id: string): Promise<NotificationChannel> {
    const channel = await this.channels.findOneBy({ id, userId });
    if (!channel) throw notFound();
    return channel;
  }
}

/**
 * A channel's receiver must not be this server's own surroundings (cloud metadata, loopback
 * unless allowed): the same rules as every host Fieldstation connects to for a user, checked
 * when the channel is created and again before every delivery (a name may resolve anew).
 */
async function assertChannelAddress(
  targets: TargetAddresses,
  channel: { kind: string; url?: string | null; smtp?: { host: string } | null },
): Promise<void> {
  if (channel.kind === 'email') {
    await targets.assertAllowed('smtp.host', 'CHANNEL_ADDRESS_NOT_ALLOWED', channel.smtp!.host);
  } else {
    const { hostname } = new URL(channel.url!);
    await targets.assertAllowed('url', 'CHANNEL_ADDRESS_NOT_ALLOWED', hostname);
  }
}
