import { describe, expect, it } from 'vitest';
import { sampleRequest } from '../samples';
import { only, ref, synthJson } from '../testing/synth-json';

const PLATFORM_ID = '0b9f4c1a-2222-4d3e-8f7a-1b2c3d4e5f60';

describe('GCP platform stack', () => {
  it('puts the data disk in the instance zone, uses an image family, a static address and a labelled VM', async () => {
    const { json } = await synthJson(sampleRequest('gcp', 'platform'));
    const instance = only(json, 'google_compute_instance');
    const disk = only(json, 'google_compute_disk');
    const address = only(json, 'google_compute_address');
    const [imageName, image] = Object.entries(json.data?.google_compute_image ?? {})[0]!;

    expect(json.provider.google).toEqual([
      { project: 'fieldstation-demo', region: 'europe-west1' },
    ]);
    expect(image).toMatchObject({ family: 'ubuntu-2404-lts-amd64', project: 'ubuntu-os-cloud' });
    expect(instance.config.boot_disk).toMatchObject({
      initialize_params: { image: `\${data.google_compute_image.${imageName}.self_link}` },
    });

    // Same zone expression on both, and that expression is the chosen zone.
    expect(disk.config.zone).toBe(instance.config.zone);
    expect(Object.values(json.locals ?? {})).toEqual(['europe-west1-b']);
    expect(instance.config.zone).toBe(`\${local.${Object.keys(json.locals!)[0]}}`);
    expect(instance.config.attached_disk).toEqual([
      expect.objectContaining({ source: ref('google_compute_disk', disk.name, 'id') }),
    ]);
    expect(instance.config.network_interface).toEqual([
      expect.objectContaining({
        access_config: [
          expect.objectContaining({
            nat_ip: ref('google_compute_address', address.name, 'address'),
          }),
        ],
      }),
    ]);
    const metadata = instance.config.metadata as Record<string, string>;
    expect(metadata['ssh-keys']).toMatch(/^fieldstation:ssh-ed25519 /);
    expect(metadata['user-data']).toMatch(/^#cloud-config\n/);

    for (const resource of [instance, disk, address]) {
      expect(resource.config.labels).toMatchObject({ 'fieldstation-platform-id': PLATFORM_ID });
    }
    expect(json.output.public_ip!.value).toBe(
      ref('google_compute_address', address.name, 'address'),
    );
  });

  it('opens firewall rules only to this platform’s target tag, SSH separately narrowed', async () => {
    const { json } = await synthJson(sampleRequest('gcp', 'platform'));
    const instance = only(json, 'google_compute_instance');
    const tag = `fieldstation-${PLATFORM_ID}`;
    expect(instance.config.tags).toEqual([tag]);

    const firewalls = Object.values(json.resource.google_compute_firewall ?? {});
    expect(firewalls).toHaveLength(2);
    for (const firewall of firewalls) {
      // Without target tags a GCP rule applies to every VM in the network (MyT's mistake).
      expect(firewall.target_tags).toEqual([tag]);
      expect(firewall).not.toHaveProperty('target_service_accounts');
      expect(firewall.direction).toBe('INGRESS');
    }
    const byPorts = Object.fromEntries(
      firewalls.map((f) => [
        JSON.stringify((f.allow as { ports: string[] }[])[0]!.ports),
        f.source_ranges,
      ]),
    );
    expect(byPorts).toEqual({
      '["22"]': ['203.0.113.7/32'],
      '["5672","5671","1883","8883","3000"]': ['198.51.100.0/24'],
    });
  });

  it('looks up a zone that is UP when none is chosen', async () => {
    const request = sampleRequest('gcp', 'platform');
    if (request.target !== 'gcp') throw new Error('sample');
    const { json } = await synthJson({ ...request, input: { ...request.input, zone: undefined } });
    const [zonesName, zones] = Object.entries(json.data?.google_compute_zones ?? {})[0]!;
    expect(zones).toMatchObject({ region: 'europe-west1', status: 'UP' });
    expect(Object.values(json.locals ?? {})).toEqual([
      `\${element(data.google_compute_zones.${zonesName}.names, 0)}`,
    ]);
    expect(only(json, 'google_compute_disk').config.zone).toBe(
      only(json, 'google_compute_instance').config.zone,
    );
  });

  it('has no space stack', () => {
    expect(() => sampleRequest('gcp', 'space')).toThrow(/GCP has no space/);
  });
});
