import { open, readFile, type FileHandle } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-write.js';
import { GroupCommit } from './group-commit.js';

/**
 * An append-only file of JSON lines. `append` resolves once its line is on disk (fdatasync); lines queued while a
 * write is in flight go out together in the next one, so many concurrent appends cost few syncs.
 */
export class JsonLinesFile {
  private readonly commits: GroupCommit;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {
    this.commits = new GroupCommit(async (data) => {
      await handle.appendFile(data);
      await handle.datasync();
    });
  }

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
    return this.commits.append(`${JSON.stringify(value)}\n`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.commits.drained();
    await this.handle.close();
  }
}
