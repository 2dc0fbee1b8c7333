import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, LessThan, MoreThanOrEqual, Repository } from 'typeorm';
import { DeviceRegistry } from '../devices/device-registry';
import type { PlatformHealthObservation } from '../platforms/health-observers';
import { PlatformRecords } from '../platforms/platform-records';
import {
  KEEP_MS,
  RANGE_MS,
  SAMPLE_INTERVAL_MS,
  sampleOf,
  toSeries,
  type MetricPoint,
  type MetricsRange,
  type ReadingsRatePoint,
} from './metric-series';
import { PlatformMetricSample } from './platform-metric-sample.entity';

/**
 * The metrics history in Fieldstation's own database: written by the worker's health check
 * (one sample per running platform and minute), read by the API's charts and by alert rules.
 */
@Injectable()
export class MetricsHistory {
  constructor(
    @InjectRepository(PlatformMetricSample)
    private readonly samples: Repository<PlatformMetricSample>,
    private readonly platforms: PlatformRecords,
    private readonly devices: DeviceRegistry,
  ) {}

  /**
   * Stores the check's sample, with the devices online (the broker's connections) at the same
   * minute, and drops every sample older than the kept time.
   */
  async record(observation: PlatformHealthObservation): Promise<void> {
    const fleet = await this.devices.fleetCounts(observation.platform);
    await this.samples.insert(sampleOf(observation, fleet));
    await this.prune(observation.observedAt);
  }

  async prune(now: Date): Promise<void> {
    await this.samples.delete({ sampledAt: LessThan(new Date(now.getTime() - KEEP_MS)) });
  }

  /** A platform's samples from `from` on, oldest first (for alert rules). */
  since(platformId: string, from: Date): Promise<PlatformMetricSample[]> {
    return this.samples.find({
      where: { platformId, sampledAt: MoreThanOrEqual(from) },
      order: { sampledAt: 'ASC' },
    });
  }

  /** The user's platform's series over the range ending now; 404 for another user's platform. */
  async series(
    userId: string,
    platformId: string,
    range: MetricsRange,
    now: Date,
  ): Promise<{ from: Date; to: Date; points: MetricPoint[] }> {
    await this.platforms.getOwned(userId, platformId);
    const from = new Date(now.getTime() - RANGE_MS[range]);
    // Two intervals earlier: the sample before the range gives the first point its rates.
    const samples = await this.since(platformId, new Date(from.getTime() - 2 * SAMPLE_INTERVAL_MS));
    return { from, to: now, points: toSeries(samples, from) };
  }

  /**
   * Readings in per second over the last hour for each of the user's platforms (destroyed ones
   * aside), in one query: the Platforms list's sparklines.
   */
  async readingsSummary(
    userId: string,
    now: Date,
  ): Promise<{ platformId: string; points: ReadingsRatePoint[] }[]> {
    const platforms = await this.platforms.listOwned(userId);
    if (platforms.length === 0) return [];
    const from = new Date(now.getTime() - RANGE_MS['1h']);
    const samples = await this.samples.find({
      where: {
        platformId: In(platforms.map((platform) => platform.id)),
        sampledAt: MoreThanOrEqual(new Date(from.getTime() - 2 * SAMPLE_INTERVAL_MS)),
      },
      order: { sampledAt: 'ASC' },
    });
    return platforms.map((platform) => ({
      platformId: platform.id,
      points: toSeries(
        samples.filter((sample) => sample.platformId === platform.id),
        from,
      ).map(({ at, readingsInPerSecond }) => ({ at, readingsInPerSecond })),
    }));
  }
}
