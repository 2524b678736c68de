import { open, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { NonceLedger } from '../ports.js';
import { writeFileAtomic } from './atomic-write.js';
import { GroupCommit } from './group-commit.js';

const LEDGER_FILE = 'nonce-ledger.jsonl';

export interface NonceLedgerOptions {
  /** Clock in milliseconds since the epoch; tests move it. */
  now?: () => number;
  /** How often expired entries leave memory. */
  pruneIntervalMs?: number;
  /** The file is rewritten without expired entries once it holds this many lines and twice the live ones. */
  compactAfterLines?: number;
}

/** One line of the ledger file per consumed nonce; `exp` in milliseconds since the epoch. */
interface LedgerLine {
  id: string;
  exp: number;
}

function formatLine(id: string, exp: number): string {
  return `${JSON.stringify({ id, exp } satisfies LedgerLine)}\n`;
}

function parseLine(text: string, file: string, lineNumber: number): LedgerLine {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const line = parsed as Partial<LedgerLine> | undefined;
  if (typeof line?.id !== 'string' || typeof line.exp !== 'number' || !Number.isFinite(line.exp)) {
    throw new Error(`nonce ledger ${file}: line ${lineNumber} is corrupt`);
  }
  return { id: line.id, exp: line.exp };
}

/** The unexpired entries of the ledger file (empty when there is none yet). */
async function readLiveEntries(file: string, now: number): Promise<Map<string, number>> {
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (!(error instanceof Error && 'code' in error && error.code === 'ENOENT')) throw error;
  }
  const lines = text.split('\n');
  // Whatever follows the last newline is an append cut short by a crash; it was never acknowledged, so it is dropped.
  lines.pop();
  const entries = new Map<string, number>();
  lines.forEach((line, index) => {
    if (line === '') return;
    const { id, exp } = parseLine(line, file, index + 1);
    if (exp > now) entries.set(id, Math.max(exp, entries.get(id) ?? exp));
  });
  return entries;
}

/**
 * Single-use nonces for one process: decided in memory, made durable in an append-only JSON-lines file
 * (`<data>/nonce-ledger.jsonl`) before `consume` answers true, so a used nonce stays used across a restart.
 * The file is compacted (expired entries dropped) each time it is opened.
 */
export class FsNonceLedger implements NonceLedger {
  private readonly writer = new GroupCommit((data, lines) => this.write(data, lines));
  private closed = false;
  private readonly pruneTimer: NodeJS.Timeout;

  /** Lines in the file now: live entries at the last compaction plus appends since. */
  private linesInFile: number;

  private constructor(
    private readonly file: string,
    private handle: FileHandle,
    private readonly entries: Map<string, number>,
    private readonly now: () => number,
    pruneIntervalMs: number,
    private readonly compactAfterLines: number,
  ) {
    this.linesInFile = entries.size;
    this.pruneTimer = setInterval(() => this.prune(), pruneIntervalMs);
    this.pruneTimer.unref();
  }

  static async open(dataDir: string, options: NonceLedgerOptions = {}): Promise<FsNonceLedger> {
    const now = options.now ?? Date.now;
    const file = join(dataDir, LEDGER_FILE);
    const entries = await readLiveEntries(file, now());
    await writeFileAtomic(file, [...entries].map(([id, exp]) => formatLine(id, exp)).join(''));
    const handle = await open(file, 'a');
    return new FsNonceLedger(file, handle, entries, now, options.pruneIntervalMs ?? 60_000, options.compactAfterLines ?? 100_000);
  }

  /**
   * A nonce already past its expiry is refused too: its entry may have been pruned, so its single use could no
   * longer be guaranteed (and the sealed nonce is refused by its own expiry anyway).
   */
  async consume(nonceId: string, expiresAt: Date): Promise<boolean> {
    if (this.closed) throw new Error('nonce ledger is closed');
    const exp = expiresAt.getTime();
    // Decided before the first await: of two concurrent calls for one id, exactly one gets here.
    if (this.entries.has(nonceId) || !(exp > this.now())) return false;
    // Stays marked even if the append fails: refusing a nonce is safe, accepting it twice is not.
    this.entries.set(nonceId, exp);
    await this.writer.append(formatLine(nonceId, exp));
    return true;
  }

  /** A cheap early check from memory; `consume` still decides. */
  async isUsed(nonceId: string): Promise<boolean> {
    return this.entries.has(nonceId);
  }

  /** Nonces remembered now; expired ones leave at the next prune. */
  get size(): number {
    return this.entries.size;
  }

  /** Forgets expired nonces; runs periodically on an unref'ed timer. */
  prune(): void {
    const now = this.now();
    for (const [id, exp] of this.entries) {
      if (exp <= now) this.entries.delete(id);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pruneTimer);
    await this.writer.drained();
    await this.handle.close();
  }

  /**
   * Rewrites the file with the live entries only, so it does not grow for as long as the process runs. Runs
   * between appends (inside the write loop), so no append can land in the file being replaced.
   */
  private async compact(): Promise<void> {
    this.prune();
    await writeFileAtomic(this.file, [...this.entries].map(([id, exp]) => formatLine(id, exp)).join(''));
    const previous = this.handle;
    this.handle = await open(this.file, 'a');
    this.linesInFile = this.entries.size;
    await previous.close();
  }

  /** One group-commit write: the lines, a data sync, and a compaction when the file has grown enough. */
  private async write(data: string, lines: number): Promise<void> {
    await this.handle.appendFile(data);
    await this.handle.datasync();
    this.linesInFile += lines;
    if (this.linesInFile >= this.compactAfterLines && this.linesInFile >= 2 * this.entries.size) await this.compact();
  }
}
