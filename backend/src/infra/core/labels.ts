/** Label/tag key carrying the platform id on every taggable resource of a platform stack. */
export const PLATFORM_ID_LABEL = 'fieldstation-platform-id';
/** Label/tag key carrying the space id on every taggable resource of a space stack. */
export const SPACE_ID_LABEL = 'fieldstation-space-id';
/** Lets a person find everything Fieldstation created in their cloud console. */
export const MANAGED_BY_LABEL = 'managed-by';

/** The tags/labels every taggable resource of a stack carries. */
export function ownerLabels(key: string, id: string): Record<string, string> {
  return { [key]: id, [MANAGED_BY_LABEL]: 'fieldstation' };
}
