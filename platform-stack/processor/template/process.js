/**
 * Your platform's processing script. Fieldstation's processor calls `process` once for every
 * reading a device publishes, before the reading is stored. Edit it, upload it, and the processor
 * reloads it without a restart.
 *
 * The reading you get:
 *   {
 *     measurement: 'room',          // from the message, or the topic telemetry/<measurement>/<device>
 *     device: 'pi1',                // idem
 *     time: Date,                   // the device's "ts" when it sent one, else the time of arrival
 *     data: { raw: 2150, ... },     // the message's "data" object, as sent
 *   }
 *
 * Return:
 *   - a reading (the same object, changed, or a new one) to store it;
 *   - an array of readings to store several (e.g. split one message per sensor);
 *   - null to drop it (nothing is stored, the message is acknowledged).
 *   A returned reading needs measurement, device, data (an object) and time (Date, ISO string or
 *   epoch milliseconds). A Promise of any of these works too (async functions are fine).
 *
 * If it throws, or runs longer than the time limit (SCRIPT_TIMEOUT_MS, 1 s by default), that
 * message goes to the dead-letter queue `telemetry.dead-letter` with the reason in its headers
 * (`x-fieldstation-stage`, `x-fieldstation-reason`); every other message keeps flowing.
 *
 * `ctx.log(message, fields)` writes a structured line to the processor's log.
 *
 * npm packages: list them in package.json next to this file; they are installed into the image.
 * The script runs in a sandbox, a separate process with an empty environment: it may use Node's
 * built-in modules and read files in its own folder, but it cannot read other files, start
 * processes or open network connections (those calls throw, and the reading is dead-lettered).
 * It should not keep state it cannot lose (its thread is replaced after a timeout or a reload).
 */

// Example: the sensor reports a raw ADC value; convert it to degrees Celsius and drop outliers.
const ADC_PER_DEGREE = 100;

export default function process(reading, ctx) {
  const raw = reading.data.raw;
  if (typeof raw !== 'number') return reading; // not a raw sensor message: store unchanged

  const celsius = raw / ADC_PER_DEGREE;
  if (celsius < -50 || celsius > 100) {
    ctx.log('dropping an implausible temperature', { device: reading.device, celsius });
    return null;
  }
  return { ...reading, data: { ...reading.data, celsius } };
}
