import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { chainRecord, recordLine, type AuditRecord } from '../../domain/audit-chain.js';
import type { AuditLog } from '../ports.js';
import { GroupCommit } from './group-commit.js';

export const AUDIT_FILE = 'audit.jsonl';

/** How much of the file's end is read at open to find the last record (records are far smaller). */
const TAIL_BYTES = 256 * 1024;

/**
 * The last complete record of the file, and the length of the file up to its end. Bytes after the last
 * newline are an append cut short by a crash, never acknowledged: they are cut off.
 */
async function readTail(handle: FileHandle): Promise<{ last?: AuditRecord; length: number }> {
  const { size } = await handle.stat();
  const start = Math.max(0, size - TAIL_BYTES);
  const { buffer, bytesRead } = await handle.read(Buffer.alloc(size - start), 0, size - start, start);
  const text = buffer.subarray(0, bytesRead).toString('utf8');
  const end = text.lastIndexOf('\n');
  if (end < 0) {
    if (start > 0) throw new Error(`audit log: no complete record in the last ${TAIL_BYTES} bytes`);
    return { length: 0 };
  }
  const lineStart = text.lastIndexOf('\n', end - 1) + 1;
  const last = JSON.parse(text.slice(lineStart, end)) as AuditRecord;
  return { last, length: start + Buffer.byteLength(text.slice(0, end + 1), 'utf8') };
}

/**
 * `<data>/audit.jsonl`: one JSON line per record, only ever appended. Records are chained in memory in call
 * order, written in that order (group commit), and each `append` resolves once the write holding its line is
 * on disk.
 * After a failed write the chain in memory may be ahead of the file, so the log refuses every later append
 * (fail closed: releases then fail) until the process restarts and re-reads the file's end.
 */
export class FsAuditLog implements AuditLog {
  // The file is opened with O_DSYNC: each write returns once its data is on disk, one thread-pool call
  // instead of a write and a separate fdatasync.
  private readonly writer = new GroupCommit((data) => this.handle.appendFile(data));
  private failure: unknown;
  private closed = false;

  private constructor(private readonly handle: FileHandle, private last: AuditRecord | undefined) {}

  static async open(dataDir: string): Promise<FsAuditLog> {
    const file = join(dataDir, AUDIT_FILE);
    const reader = await open(file, 'a+', 0o600);
    let last: AuditRecord | undefined;
    try {
      const tail = await readTail(reader);
      last = tail.last;
      if ((await reader.stat()).size !== tail.length) {
        await reader.truncate(tail.length);
        await reader.sync();
      }
    } finally {
      await reader.close();
    }
    return new FsAuditLog(await open(file, constants.O_WRONLY | constants.O_APPEND | constants.O_DSYNC, 0o600), last);
  }

  async append(event: Record<string, unknown>, at: Date): Promise<AuditRecord> {
    if (this.closed) throw new Error('audit log is closed');
    if (this.failure !== undefined) throw new Error('audit log failed an earlier write; restart the broker', { cause: this.failure });
    const record = chainRecord(this.last, event, at);
    this.last = record;
    try {
      await this.writer.append(recordLine(record));
    } catch (error) {
      this.failure ??= error;
      throw error;
    }
    return record;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer.drained();
    await this.handle.close();
  }
}
