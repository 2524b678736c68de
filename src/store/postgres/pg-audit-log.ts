import type pg from 'pg';
import { chainRecord, recordLine, type AuditRecord } from '../../domain/audit-chain.js';
import type { AuditLog } from '../ports.js';
import type { StoreHealth } from './store-health.js';

/** Taken for the length of one append transaction by whichever replica writes; differs from the migration lock. */
const AUDIT_CHAIN_LOCK = 0x6b626175;
/** Records written in one transaction at most; more wait for the next one. */
const MAX_BATCH = 256;
/** Rows read per query when the chain is read back. */
const READ_PAGE = 1_000;

interface PendingAppend {
  event: Record<string, unknown>;
  at: Date;
  resolve(record: AuditRecord): void;
  reject(error: unknown): void;
}

/**
 * One hash chain shared by every replica, in table `keybroker_audit_log` (seq, hash, and the record's canonical line
 * as the file adapter writes it, without the newline). Each append transaction takes a transaction-level advisory
 * lock, reads the chain's head and inserts after it, so replicas never fork the chain; the record is returned once
 * the transaction committed. Within a replica, appends that arrive while a transaction runs go together in the next.
 */
export class PgAuditLog implements AuditLog {
  private queue: PendingAppend[] = [];
  private writing: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly pool: pg.Pool, private readonly health: StoreHealth) {}

  append(event: Record<string, unknown>, at: Date): Promise<AuditRecord> {
    if (this.closed) return Promise.reject(new Error('audit log is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ event, at, resolve, reject });
      this.writing ??= this.drain();
    });
  }

  /** Waits for the appends already made. */
  async close(): Promise<void> {
    this.closed = true;
    await this.writing;
  }

  /** Writes batches until the queue is empty; `writing` is cleared in the same turn the queue is found empty. */
  private async drain(): Promise<void> {
    for (;;) {
      const batch = this.queue.splice(0, MAX_BATCH);
      if (batch.length === 0) {
        this.writing = undefined;
        return;
      }
      try {
        const records = await this.health.guard('append audit records', () => this.write(batch));
        batch.forEach((pending, index) => pending.resolve(records[index]!));
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
  }

  private async write(batch: PendingAppend[]): Promise<AuditRecord[]> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_CHAIN_LOCK]);
      const head = await client.query<{ seq: string; hash: string }>('SELECT seq, hash FROM keybroker_audit_log ORDER BY seq DESC LIMIT 1');
      let previous = head.rows[0] && { seq: Number(head.rows[0].seq), hash: head.rows[0].hash };
      const records = batch.map((pending) => (previous = chainRecord(previous, pending.event, pending.at)));
      await client.query(
        'INSERT INTO keybroker_audit_log (seq, hash, line) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])',
        [records.map((record) => record.seq), records.map((record) => record.hash), records.map((record) => recordLine(record).trimEnd())],
      );
      await client.query('COMMIT');
      return records;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => { broken = true; });
      throw error;
    } finally {
      client.release(broken);
    }
  }
}

/** The chain's lines in `seq` order, as `keybroker audit verify` checks them (a missing row shows as a gap). */
export async function* readPgAuditLines(client: pg.Client): AsyncGenerator<string> {
  let after = 0;
  for (;;) {
    const { rows } = await client.query<{ seq: string; line: string }>(
      'SELECT seq, line FROM keybroker_audit_log WHERE seq > $1 ORDER BY seq LIMIT $2', [after, READ_PAGE]);
    for (const row of rows) yield row.line;
    if (rows.length < READ_PAGE) return;
    after = Number(rows[rows.length - 1]!.seq);
  }
}
