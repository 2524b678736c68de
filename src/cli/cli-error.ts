/** A failure the CLI reports as one line on stderr with a non-zero exit code. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'CliError';
  }
}

/** Wrong flags or arguments: exit code 2. */
export function usageError(message: string): CliError {
  return new CliError(message, 2);
}
