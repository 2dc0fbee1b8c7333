/**
 * OpenTofu evaluates `${…}` and `%{…}` inside every string of a JSON configuration, so a user
 * string that reached a stack unescaped could call `file()` on the orchestrator's disk. Every
 * stack input passes through here on its way into a construct (StackSynthesizer.buildStack),
 * which makes each string a literal: `${` → `$${`, `%{` → `%%{`.
 *
 * cdktf resolves its own `${TfToken[…]}` markers even inside an escaped `$${`, so a string that
 * carries one could splice in a reference; such a string is refused rather than escaped.
 */
const CDKTF_TOKEN_MARKER = /[$#&]\{TfToken\[/;

export function terraformLiteral<T>(value: T): T {
  return escapeValue(value, '') as T;
}

function escapeValue(value: unknown, path: string): unknown {
  if (typeof value === 'string') return escapeString(value, path);
  if (Array.isArray(value))
    return value.map((item, index) => escapeValue(item, `${path}[${index}]`));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        escapeValue(item, path ? `${path}.${key}` : key),
      ]),
    );
  }
  return value;
}

function escapeString(text: string, path: string): string {
  if (CDKTF_TOKEN_MARKER.test(text)) {
    throw new Error(
      `${path || 'value'} contains a cdktf token marker and cannot be used literally`,
    );
  }
  // Replacer functions, because `$$` in a replacement string means a single `$`.
  return text.replaceAll('${', () => '$${').replaceAll('%{', () => '%%{');
}
