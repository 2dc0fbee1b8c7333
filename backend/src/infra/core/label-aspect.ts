import { TerraformResource, type IAspect } from 'cdktf';
import type { IConstruct } from 'constructs';

/**
 * Where each provider keeps a resource's key/value labels (the `…Input` getters hold the
 * configured value; the plain getters only return tokens). Resources without any of these
 * (attachments, firewall rules, key pairs) cannot carry labels and are not checked.
 */
const LABEL_PROPERTIES: Record<string, string[]> = {
  aws: ['tagsInput'],
  google: ['labelsInput'],
  openstack: ['tagsInput', 'metadataInput'],
};

/**
 * Fails synthesis when a taggable resource lacks the owner label, so a resource that could
 * not be traced back to its platform or space never reaches a cloud.
 */
export class RequiredLabelAspect implements IAspect {
  constructor(
    private readonly key: string,
    private readonly value: string,
  ) {}

  visit(node: IConstruct): void {
    if (!(node instanceof TerraformResource)) return;
    const provider = node.terraformGeneratorMetadata?.providerName ?? '';
    const property = (LABEL_PROPERTIES[provider] ?? []).find((name) => name in node);
    if (property === undefined) return;
    const labels = (node as unknown as Record<string, unknown>)[property] as
      Record<string, string> | undefined;
    if (labels?.[this.key] !== this.value) {
      throw new Error(
        `${node.terraformResourceType}.${node.friendlyUniqueId} lacks the label ${this.key}=${this.value}`,
      );
    }
  }
}
