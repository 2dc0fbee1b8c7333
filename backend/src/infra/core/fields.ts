import { z } from 'zod';
import { dnsLabelMessage, isDnsLabel } from '../../common/dns-label';

/**
 * Field schemas shared by the per-cloud inputs. Everything that ends up in a resource name,
 * tag or label is restricted to what every cloud accepts (lowercase DNS labels), so user text
 * never has to be escaped anywhere.
 */

/** A platform or space id: usable as AWS tag, GCP label value and OpenStack tag unchanged. */
export const ownerId = z
  .string()
  .regex(
    /^[a-z0-9]([a-z0-9-]{0,45}[a-z0-9])?$/,
    'must be lowercase letters, digits and inner hyphens (at most 47)',
  );

/**
 * A user-chosen name that becomes part of resource names (`fs-<name>-services` must fit
 * GCP's 63-character limit, hence at most 50).
 */
const DNS_NAME_MAX = 50;
export const dnsName = z
  .string()
  .refine((name) => isDnsLabel(name, DNS_NAME_MAX), dnsLabelMessage(DNS_NAME_MAX));

export const cidr = z.union([z.cidrv4(), z.cidrv6()], { error: 'must be an IPv4 or IPv6 CIDR' });

/** Source ranges allowed to reach the platform's service ports (or SSH). */
export const cidrList = z.array(cidr).min(1).max(20);

export const sshPublicKey = z
  .string()
  .trim()
  .regex(
    /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}( [\w@.+:=,/-][\w@.+:=,/ -]{0,199})?$/,
    'must be one OpenSSH public key line (comment: letters, digits, spaces and @ . _ + : = , / -)',
  );

export const dataVolumeGb = z.number().int().min(1).max(16384);

/** Cloud identifiers (regions, zones, machine types, image names) from a menu, not free text. */
export const cloudIdentifier = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/, 'must be a cloud identifier');

/**
 * An OpenStack image name. Glance accepts any text; real names use letters, digits, spaces and
 * a few marks, so nothing a template language reads (`$ % { }`, quotes, backslashes) is allowed.
 */
export const imageName = z
  .string()
  .regex(
    /^[A-Za-z0-9][\w .()[\]+:,@=-]{0,254}$/,
    'must be an image name: letters, digits, spaces and . _ ( ) [ ] + : , @ = - (at most 255)',
  );
