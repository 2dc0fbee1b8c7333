/** The services the tests need come from scripts/services/*.sh; a missing one fails loudly. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set. Start the test services first, e.g. ` +
        '`eval "$(scripts/services/rabbitmq.sh start)"` (see scripts/services/), or run `npm test` at the repository root.',
    );
  }
  return value;
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}
