import { join } from 'node:path';
import { isRevocationReason } from '../../domain/revocation.js';
import type { RevocationList, RevocationRecord } from '../ports.js';
import { JsonLinesFile } from './json-lines-file.js';

const LIST_FILE = 'revocations.jsonl';

function asRevocation(value: unknown, file: string): RevocationRecord {
  const record = value as Partial<Record<keyof RevocationRecord, unknown>> | null;
  const valid = typeof record === 'object' && record !== null
    && typeof record.serial === 'string' && typeof record.issuer_id === 'string' && typeof record.revoked_at === 'string'
    && typeof record.revoked_by === 'string' && typeof record.not_after === 'string' && isRevocationReason(record.reason);
  if (!valid) throw new Error(`${file}: a revocation entry is malformed`);
  const { serial, issuer_id, revoked_at, reason, revoked_by, not_after } = record as RevocationRecord;
  return { serial, issuer_id, revoked_at, reason, revoked_by, not_after };
}

/** Revoked serials, one JSON line each in `<data>/revocations.jsonl`, all held in memory (revocations are few). */
export class FsRevocationList implements RevocationList {
  private constructor(
    private readonly file: JsonLinesFile,
    private readonly bySerial: Map<string, RevocationRecord>,
  ) {}

  static async open(dataDir: string): Promise<FsRevocationList> {
    const { file, entries } = await JsonLinesFile.openKeyed(join(dataDir, LIST_FILE), asRevocation, (revocation) => revocation.serial);
    return new FsRevocationList(file, entries);
  }

  async revoke(revocation: RevocationRecord): Promise<{ created: boolean; revocation: RevocationRecord }> {
    const existing = this.bySerial.get(revocation.serial);
    if (existing) return { created: false, revocation: existing };
    const record = asRevocation(revocation, this.file.path);
    // In memory first: the certificate is refused from now on, even before the line is on disk.
    this.bySerial.set(record.serial, record);
    await this.file.append(record);
    return { created: true, revocation: record };
  }

  async isRevoked(serial: string): Promise<boolean> {
    return this.bySerial.has(serial);
  }

  async list(issuerId?: string): Promise<RevocationRecord[]> {
    return [...this.bySerial.values()].filter((revocation) => issuerId === undefined || revocation.issuer_id === issuerId);
  }

  close(): Promise<void> {
    return this.file.close();
  }
}
