import type { Reading } from '../contract/reading';

/** Stores batches of readings. `write` resolves only once the database confirmed the whole batch. */
export interface ReadingWriter {
  readonly kind: string;
  /** Creates the database objects the writer needs; safe to call again after a reconnect. */
  prepare(): Promise<void>;
  write(readings: Reading[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * The database refused the data itself (e.g. a field type conflict or a value out of range):
 * retrying the same rows cannot succeed. Every other error is treated as transient.
 */
export class RejectedByDatabaseError extends Error {
  override readonly name = 'RejectedByDatabaseError';
}
