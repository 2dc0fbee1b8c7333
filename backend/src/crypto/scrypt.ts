import { scrypt, type ScryptOptions } from 'node:crypto';
import { HttpStatus } from '@nestjs/common';
import { ApiError } from '../common/api-error';

/** DESIGN §4: N=2^17, r=8, p=1, maxmem 256 MiB; async so hashing never blocks the event loop. */
export const SCRYPT_PARAMS = { N: 2 ** 17, r: 8, p: 1, maxmem: 256 * 1024 * 1024 } as const;
const KEY_LENGTH = 32;

/**
 * Derivations running at once in this process. Each holds 128·N·r bytes (128 MiB at N=2^17), so a
 * burst of logins would otherwise take as many of them as the thread pool runs, plus a queue of
 * waiting buffers; two at a time keep both cores busy and the memory at 256 MiB.
 */
export const MAX_CONCURRENT_DERIVATIONS = 2;

/**
 * Derivations that may wait for a slot. Beyond this a burst (many addresses guessing at once)
 * would make every real sign-in wait minutes; refusing at once keeps the wait short for those
 * already queued, and the client simply tries again.
 */
export const MAX_WAITING_DERIVATIONS = 32;

let running = 0;
const waiting: (() => void)[] = [];

async function acquire(): Promise<void> {
  if (running < MAX_CONCURRENT_DERIVATIONS) {
    running++;
    return;
  }
  if (waiting.length >= MAX_WAITING_DERIVATIONS) {
    throw new ApiError(
      HttpStatus.SERVICE_UNAVAILABLE,
      'TOO_BUSY',
      'Too many sign-ins are being checked at once; try again in a few seconds.',
    );
  }
  // The slot is handed over by release(), so `running` never drops while someone waits.
  await new Promise<void>((resolve) => waiting.push(resolve));
}

function release(): void {
  const next = waiting.shift();
  if (next) next();
  else running--;
}

/** Derivations in progress and queued, for tests of the ceiling. */
export function scryptLoad(): { running: number; waiting: number } {
  return { running, waiting: waiting.length };
}

/** scrypt of the NFKC-normalised password, at most MAX_CONCURRENT_DERIVATIONS at once (FIFO). */
export async function deriveScrypt(
  password: string,
  salt: Buffer,
  params: ScryptOptions = SCRYPT_PARAMS,
): Promise<Buffer> {
  await acquire();
  try {
    return await new Promise<Buffer>((resolve, reject) =>
      scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, params, (error, key) =>
        error ? reject(error) : resolve(key),
      ),
    );
  } finally {
    release();
  }
}
