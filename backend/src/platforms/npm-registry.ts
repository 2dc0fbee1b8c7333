import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { mapWithConcurrency } from '../common/map-with-concurrency';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';

const PACKAGE_NAME = /^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;
const EXACT_VERSION = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
const TIMEOUT_MS = 5000;
/** More packages than any processing script needs; each one costs a registry lookup. */
export const MAX_PACKAGES = 100;
/** Lookups in flight at once, so one request cannot open thousands of connections. */
export const LOOKUP_CONCURRENCY = 8;

/**
 * Checks a processing script's packages against the npm registry before anything is queued, so
 * a typo fails in the form instead of half-way through a deployment. An unreachable registry is
 * a warning: the host may reach a mirror the orchestrator cannot.
 */
@Injectable()
export class NpmRegistry {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Throws 400 naming the first unknown or malformed package; returns warnings. */
  async check(packages: Record<string, string>): Promise<string[]> {
    const entries = Object.entries(packages);
    if (entries.length > MAX_PACKAGES) {
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'TOO_MANY_PACKAGES',
        `A processing script may import at most ${MAX_PACKAGES} packages (got ${entries.length})`,
        { max: MAX_PACKAGES },
      );
    }
    for (const [name, version] of Object.entries(packages)) {
      if (!PACKAGE_NAME.test(name))
        throw invalidPackage(name, `"${name}" is not an npm package name`);
      if (typeof version !== 'string' || !EXACT_VERSION.test(version)) {
        throw invalidPackage(name, `package "${name}" needs an exact version such as 1.2.3`);
      }
    }
    const results = await mapWithConcurrency(entries, LOOKUP_CONCURRENCY, ([name, version]) =>
      this.lookup(name, version),
    );
    const unknown = results.find((result) => result.kind === 'unknown');
    if (unknown) {
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'UNKNOWN_PACKAGE',
        `${unknown.name}@${unknown.version} is not in the npm registry`,
        { package: unknown.name, version: unknown.version },
      );
    }
    return results.flatMap((result) =>
      result.kind === 'unchecked'
        ? [
            `Could not check ${result.name}@${result.version} with the npm registry: ${result.reason}`,
          ]
        : [],
    );
  }

  private async lookup(name: string, version: string) {
    // Scoped names keep their "@" and encode the "/": @scope%2Fname.
    const url = `${this.config.npmRegistryUrl}/${name.replace('/', '%2F')}/${version}`;
    try {
      const response = await fetch(url, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      await response.body?.cancel();
      if (response.ok) return { kind: 'found' as const, name, version };
      if (response.status === 404) return { kind: 'unknown' as const, name, version };
      return { kind: 'unchecked' as const, name, version, reason: `HTTP ${response.status}` };
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return {
        kind: 'unchecked' as const,
        name,
        version,
        reason: cause ?? (error as Error).name ?? 'unreachable',
      };
    }
  }
}

function invalidPackage(name: string, message: string): ApiError {
  return new ApiError(HttpStatus.BAD_REQUEST, 'INVALID_PACKAGE', message, {
    package: name,
  });
}
