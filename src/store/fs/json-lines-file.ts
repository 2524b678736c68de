import { open, readFile, type FileHandle } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-write.js';

interface QueuedAppend {
  text: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * An append-only file of JSON lines. `append` resolves once its line is on disk (fdatasync); lines queued while a
 * write is in flight go out together in the next one, so many concurrent appends cost few syncs.
 */
export class JsonLinesFile {
  private readonly queue: QueuedAppend[] = [];
  private flushing: Promise<void> | undefined;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  /**
   * Opens (creating it, mode 0600) and returns the parsed lines. A last line without its newline is an append cut
   * short by a crash, never acknowledged, so it is dropped and the file rewritten without it; any other line
   * that is not JSON stops the open with its line number.
   */
  static async open(path: string): Promise<{ file: JsonLinesFile; lines: unknown[] }> {
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (!(error instanceof Error && 'code' in error && error.code === 'ENOENT')) throw error;
    }
    const rows = text.split('\n');
    const torn = rows.pop() !== '';
    const lines = rows.flatMap((row, index) => {
      if (row === '') return [];
      try {
        return [JSON.parse(row) as unknown];
      } catch {
        throw new Error(`${path}: line ${index + 1} is corrupt`);
      }
    });
    if (torn || text === '') await writeFileAtomic(path, rows.map((row) => `${row}\n`).join(''));
    return { file: new JsonLinesFile(path, await open(path, 'a')), lines };
  }

  /**
   * Opens the file and reads each line through `parse` into a map by `keyOf`, keeping the first entry of a key.
   * A line that `parse` refuses closes the file again and stops the open.
   */
  static async openKeyed<T>(path: string, parse: (value: unknown, path: string) => T, keyOf: (entry: T) => string): Promise<{ file: JsonLinesFile; entries: Map<string, T> }> {
    const { file, lines } = await JsonLinesFile.open(path);
    const entries = new Map<string, T>();
    try {
      for (const line of lines) {
        const entry = parse(line, path);
        if (!entries.has(keyOf(entry))) entries.set(keyOf(entry), entry);
      }
    } catch (error) {
      await file.close();
      throw error;
    }
    return { file, entries };
  }

  append(value: unknown): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`${this.path} is closed`));
    return new Promise((resolve, reject) => {
      this.queue.push({ text: `${JSON.stringify(value)}\n`, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flushing;
    await this.handle.close();
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0);
      try {
        await this.handle.appendFile(batch.map((item) => item.text).join(''));
        await this.handle.datasync();
        for (const item of batch) item.resolve();
      } catch (error) {
        for (const item of batch) item.reject(error);
      }
    }
    this.flushing = undefined;
  }
}
