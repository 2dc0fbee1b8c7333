import { ApiProperty } from '@nestjs/swagger';
import { ValidateBy, type ValidationOptions } from 'class-validator';

/**
 * The one rule for user-chosen names that end up in resource names, hostnames, broker logins or
 * topic segments: a DNS label (RFC 1035) — lowercase letters, digits and "-", starting with a
 * letter, not ending with "-". Nothing in it needs escaping anywhere (no dots, which AMQP topics
 * and RabbitMQ's topic-permission patterns would read as separators or wildcards).
 */
export const DNS_LABEL = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;

/** A DNS label's own limit. */
export const DNS_LABEL_MAX = 63;

/**
 * Platform and space names: they become parts of longer resource names (`fs-<name>-services`,
 * host names, Docker project names), so they stay well under {@link DNS_LABEL_MAX}.
 */
export const TARGET_NAME_MAX = 32;

export function isDnsLabel(value: unknown, maxLength = DNS_LABEL_MAX): value is string {
  return typeof value === 'string' && value.length <= maxLength && DNS_LABEL.test(value);
}

export function dnsLabelMessage(maxLength = DNS_LABEL_MAX): string {
  return (
    'must be a DNS label: lowercase letters, digits and "-", starting with a letter, ' +
    `not ending with "-", at most ${maxLength} characters`
  );
}

export interface DnsLabelOptions extends Pick<ValidationOptions, 'each'> {
  /** At most this many characters (default and upper bound: {@link DNS_LABEL_MAX}). */
  maxLength?: number;
}

/**
 * Validates a name as a DNS label (see {@link DNS_LABEL}) of at most `maxLength` characters, with
 * one message naming the rule. On a single value it also documents `pattern` and `maxLength` in
 * the OpenAPI schema (merged with the property's own `@ApiProperty`, which keeps `required`); with `each`, every item of
 * an array is checked.
 */
export function IsDnsLabel({ maxLength = DNS_LABEL_MAX, each }: DnsLabelOptions = {}) {
  if (maxLength < 1 || maxLength > DNS_LABEL_MAX)
    throw new RangeError(`a DNS label has 1 to ${DNS_LABEL_MAX} characters`);
  const validate = ValidateBy(
    {
      name: 'isDnsLabel',
      constraints: [maxLength],
      validator: {
        validate: (value: unknown) => isDnsLabel(value, maxLength),
        defaultMessage: () =>
          each
            ? `each item of $property ${dnsLabelMessage(maxLength)}`
            : `$property ${dnsLabelMessage(maxLength)}`,
      },
    },
    { each },
  );
  if (each) return validate;
  const document = ApiProperty({ type: String, pattern: DNS_LABEL.source, maxLength });
  return (target: object, propertyKey: string | symbol) => {
    validate(target, propertyKey);
    document(target, propertyKey);
  };
}
