/** Where BullMQ finds Redis (the configured REDIS_URL or the private server started at boot). */
export class RedisConnection {
  constructor(
    readonly url: string,
    /** Key prefix of every queue, so several installs can share one Redis. */
    readonly prefix: string,
  ) {}

  /** BullMQ needs `maxRetriesPerRequest: null` on blocking connections. */
  options(): { url: string; maxRetriesPerRequest: null } {
    return { url: this.url, maxRetriesPerRequest: null };
  }
}
