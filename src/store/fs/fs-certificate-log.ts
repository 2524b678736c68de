import { join } from 'node:path';
import type { CertificateLog, IssuedCertificateRecord } from '../ports.js';
import { JsonLinesFile } from './json-lines-file.js';

const LOG_FILE = 'certificate-log.jsonl';

const FIELDS = ['serial', 'spiffe_id', 'issuer_id', 'not_before', 'not_after', 'tee', 'verifier'] as const;

function asRecord(value: unknown, file: string): IssuedCertificateRecord {
  const record = value as Partial<Record<(typeof FIELDS)[number], unknown>> | null;
  if (typeof record !== 'object' || record === null || FIELDS.some((field) => typeof record[field] !== 'string')) {
    throw new Error(`${file}: an entry lacks one of ${FIELDS.join(', ')}`);
  }
  return Object.fromEntries(FIELDS.map((field) => [field, record[field]])) as unknown as IssuedCertificateRecord;
}

/**
 * Every issued certificate, one JSON line each in `<data>/certificate-log.jsonl`, indexed in memory by serial.
 * The file only grows (a few hundred bytes per certificate); it is the record an operator revokes from.
 */
export class FsCertificateLog implements CertificateLog {
  private constructor(
    private readonly file: JsonLinesFile,
    private readonly bySerial: Map<string, IssuedCertificateRecord>,
  ) {}

  static async open(dataDir: string): Promise<FsCertificateLog> {
    const { file, entries } = await JsonLinesFile.openKeyed(join(dataDir, LOG_FILE), asRecord, (record) => record.serial);
    return new FsCertificateLog(file, entries);
  }

  async record(certificate: IssuedCertificateRecord): Promise<void> {
    if (this.bySerial.has(certificate.serial)) return;
    const record = asRecord(certificate, this.file.path);
    this.bySerial.set(record.serial, record);
    try {
      await this.file.append(record);
    } catch (error) {
      this.bySerial.delete(record.serial);
      throw error;
    }
  }

  async get(serial: string): Promise<IssuedCertificateRecord | undefined> {
    return this.bySerial.get(serial);
  }

  async list(query: { issuerId?: string; limit: number }): Promise<IssuedCertificateRecord[]> {
    const matching = [...this.bySerial.values()].filter((record) => query.issuerId === undefined || record.issuer_id === query.issuerId);
    // Insertion order is issuance order; newest first.
    return matching.reverse().slice(0, query.limit);
  }

  close(): Promise<void> {
    return this.file.close();
  }
}
