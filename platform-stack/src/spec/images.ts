/**
 * Pinned image references. Every one can be overridden per install (a private registry mirror,
 * or images `docker load`ed from tarballs on an offline host).
 */
export interface StackImages {
  rabbitmq: string;
  influxdb: string;
  postgres: string;
  timescaledb: string;
  mongodb: string;
  grafana: string;
  /** The processor image built on the host from platform-stack/processor. */
  processor: string;
  /** Base image of the processor build (Dockerfile build argument NODE_IMAGE). */
  node: string;
}

export const DEFAULT_IMAGES: Readonly<StackImages> = {
  rabbitmq: 'rabbitmq:3.13.7-management',
  influxdb: 'influxdb:1.11.8',
  postgres: 'postgres:16.6',
  timescaledb: 'timescale/timescaledb:2.17.2-pg16',
  mongodb: 'mongo:7.0.16',
  grafana: 'grafana/grafana:11.4.0',
  processor: 'fieldstation/processor:0.1.0',
  node: 'node:20.20-bookworm-slim',
};
