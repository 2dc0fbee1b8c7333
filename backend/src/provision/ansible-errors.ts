/** A playbook run failed; names the failing task and host and carries Ansible's message. */
export class AnsibleRunError extends Error {
  constructor(
    readonly playbook: string,
    readonly exitCode: number | null,
    readonly task: string | null,
    readonly host: string | null,
    readonly detail: string,
  ) {
    super(
      task
        ? `${playbook}: task "${task}" failed on ${host ?? 'the host'}: ${detail}`
        : `${playbook}: ansible-playbook exited with ${exitCode ?? 'a signal'}: ${detail}`,
    );
    this.name = 'AnsibleRunError';
  }
}

/** A request the runner refuses before anything runs (invalid target or unsafe variables). */
export class AnsibleInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AnsibleInputError';
  }
}
