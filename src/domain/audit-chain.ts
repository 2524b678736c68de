import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

/**
 * The audit log's hash chain. One record per line:
 *   {"event":{...},"hash":"<hex>","prev":"<hex>","seq":N,"time":"<RFC 3339>"}
 * The canonical bytes of a record are the UTF-8 of its RFC 8785 (JCS) serialization without the `hash` member;
 * `hash` is SHA-256 of those bytes and `prev` is the previous record's `hash` (64 zeros for record 1). A line is
 * the JCS serialization of the whole record followed by "\n". Editing a record breaks its own hash (or, if the
 * hash was recomputed, the next record's `prev`); deleting, inserting or moving one breaks the `seq` sequence;
 * a line that is not exactly the canonical form of its record (an added field, other spacing) is refused.
 */
export interface AuditRecord {
  seq: number;
  time: string;
  event: Record<string, unknown>;
  prev: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

export function recordHash(record: Omit<AuditRecord, 'hash'>): string {
  const { seq, time, event, prev } = record;
  return createHash('sha256').update(canonicalJson({ seq, time, event, prev }), 'utf8').digest('hex');
}

/** The record following `previous` (undefined: the first record). */
export function chainRecord(previous: { seq: number; hash: string } | undefined, event: Record<string, unknown>, at: Date): AuditRecord {
  const unsealed = { seq: (previous?.seq ?? 0) + 1, time: at.toISOString(), event, prev: previous?.hash ?? GENESIS_HASH };
  return { ...unsealed, hash: recordHash(unsealed) };
}

export function recordLine(record: AuditRecord): string {
  return `${canonicalJson(record)}\n`;
}

/** SHA-256 (hex) of a value's canonical JSON: how audit records refer to claims and policy texts. */
export function digestOf(value: unknown): string {
  return createHash('sha256').update(typeof value === 'string' ? value : canonicalJson(value), 'utf8').digest('hex');
}

export type ChainVerdict =
  | { ok: true; checked: number; last?: AuditRecord }
  | { ok: false; seq: number; line: number; reason: string };

const HEX64 = /^[0-9a-f]{64}$/;

function parseRecord(text: string): AuditRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const record = value as Partial<AuditRecord> | null;
  if (typeof record !== 'object' || record === null || !Number.isSafeInteger(record.seq) || typeof record.time !== 'string'
    || typeof record.event !== 'object' || record.event === null || Array.isArray(record.event)
    || typeof record.prev !== 'string' || !HEX64.test(record.prev) || typeof record.hash !== 'string' || !HEX64.test(record.hash)) {
    return undefined;
  }
  return record as AuditRecord;
}

/**
 * Checks the lines of an audit log in order, starting at record `from` (its `prev` is taken on trust), and stops
 * at the first broken record, naming it by the sequence number it should have (= its line number).
 */
export async function verifyChain(lines: AsyncIterable<string> | Iterable<string>, from = 1): Promise<ChainVerdict> {
  let previous: AuditRecord | undefined;
  let checked = 0;
  let line = 0;
  for await (const text of lines) {
    line++;
    if (line < from) continue;
    const fail = (reason: string): ChainVerdict => ({ ok: false, seq: line, line, reason });
    const record = parseRecord(text);
    if (!record) return fail('not a well-formed audit record');
    if (record.seq !== line) return fail(`holds seq ${record.seq} where seq ${line} belongs: a record was deleted, inserted or moved`);
    if (text !== canonicalJson(record)) return fail('is not in canonical form (a field was added, removed or reformatted): the record was edited');
    if (recordHash(record) !== record.hash) return fail('its content does not match its hash: the record was edited');
    const expectedPrev = previous ? previous.hash : line === 1 ? GENESIS_HASH : undefined;
    if (expectedPrev !== undefined && record.prev !== expectedPrev) {
      return fail(`its prev does not match the hash of record ${line - 1}: a record before it was replaced`);
    }
    previous = record;
    checked++;
  }
  if (from > line + 1) return { ok: false, seq: from, line: from, reason: `the log holds only ${line} records` };
  return { ok: true, checked, ...(previous ? { last: previous } : {}) };
}
