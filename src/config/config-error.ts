/** A configuration problem that stops the start: one line naming what is wrong and where. */
export class ConfigError extends Error {
  /** What the problem is about: a setting (`[server] listen`), an environment variable or the config file. */
  readonly subject: string;

  constructor(subject: string, problem: string) {
    super(`config: ${subject}: ${problem}`);
    this.name = 'ConfigError';
    this.subject = subject;
  }
}
