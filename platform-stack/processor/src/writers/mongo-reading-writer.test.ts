import { describe, expect, it } from 'vitest';
import { toMongoDocument } from './mongo-reading-writer';

// MongoDB cannot run here: only the document shape is checked; the writer itself is untested.
describe('toMongoDocument', () => {
  it('keeps the device time as a BSON date and measurement/device as the time-series metaField', () => {
    expect(
      toMongoDocument({
        measurement: 'room',
        device: 'pi1',
        time: 1714564800456,
        data: { temp: 21.5 },
      }),
    ).toEqual({
      time: new Date('2024-05-01T12:00:00.456Z'),
      meta: { measurement: 'room', device: 'pi1' },
      data: { temp: 21.5 },
    });
  });
});
