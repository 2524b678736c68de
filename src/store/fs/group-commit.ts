interface PendingAppend {
  line: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for append-only files: lines that queue up while one write (append + sync) runs go out together
 * in the next, so concurrent callers share one sync. Each `append` resolves once the write covering its line
 * succeeded, in call order.
 */
export class GroupCommit {
  private readonly pending: PendingAppend[] = [];
  private writing = false;
  private idle: Promise<void> = Promise.resolve();

  /** `write` receives the joined lines and how many there are; it must make them durable before resolving. */
  constructor(private readonly write: (data: string, lines: number) => Promise<void>) {}

  append(line: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ line, resolve, reject });
      if (!this.writing) {
        this.writing = true;
        this.idle = this.writePending();
      }
    });
  }

  /** Resolves when every queued line was written (or failed). */
  drained(): Promise<void> {
    return this.idle;
  }

  private async writePending(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0);
      try {
        await this.write(batch.map((append) => append.line).join(''), batch.length);
        for (const append of batch) append.resolve();
      } catch (error) {
        for (const append of batch) append.reject(error);
      }
    }
    this.writing = false;
  }
}
