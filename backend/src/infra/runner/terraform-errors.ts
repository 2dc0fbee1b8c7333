/** A failed `tofu`/`terraform` command; the message is already free of credential values. */
export class TerraformError extends Error {
  constructor(
    message: string,
    readonly command: string,
    readonly exitCode: number | null,
    /** Address of the resource the first error diagnostic points at, when there is one. */
    readonly resource?: string,
  ) {
    super(message);
    this.name = 'TerraformError';
  }
}

/** The command was stopped through its AbortSignal. */
export class TerraformCancelledError extends TerraformError {
  constructor(tool: string, command: string, exitCode: number | null) {
    super(`${tool} ${command} was cancelled`, command, exitCode);
    this.name = 'TerraformCancelledError';
  }
}
