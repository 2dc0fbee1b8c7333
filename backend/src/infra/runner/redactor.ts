/** Shortest value treated as secret; shorter strings would blank out ordinary words. */
const MIN_SECRET_LENGTH = 6;

/**
 * Replaces every credential value (and the string leaves of JSON credentials such as a GCP
 * service-account key, raw and JSON-escaped) with `***` before text reaches a log or an error.
 */
export class Redactor {
  private readonly secrets: string[];

  constructor(values: Iterable<string>) {
    const found = new Set<string>();
    const add = (value: string): void => {
      if (value.length < MIN_SECRET_LENGTH) return;
      found.add(value);
      found.add(JSON.stringify(value).slice(1, -1));
    };
    for (const value of values) {
      add(value);
      for (const leaf of jsonStringLeaves(value)) add(leaf);
    }
    // Longest first, so a secret containing another is replaced whole.
    this.secrets = [...found].sort((a, b) => b.length - a.length);
  }

  redact(text: string): string {
    let result = text;
    for (const secret of this.secrets) result = result.split(secret).join('***');
    return result;
  }
}

function jsonStringLeaves(value: string): string[] {
  if (!value.trimStart().startsWith('{')) return [];
  try {
    const leaves: string[] = [];
    const walk = (node: unknown): void => {
      if (typeof node === 'string') leaves.push(node);
      else if (node && typeof node === 'object') Object.values(node).forEach(walk);
    };
    walk(JSON.parse(value));
    return leaves;
  } catch {
    return [];
  }
}
