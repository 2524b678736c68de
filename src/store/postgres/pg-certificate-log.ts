import type pg from 'pg';
import type { CertificateLog, IssuedCertificateRecord } from '../ports.js';
import type { StoreHealth } from './store-health.js';

const COLUMNS = 'serial, spiffe_id, issuer_id, not_before, not_after, tee, verifier';

/**
 * Every issued certificate, shared by every replica (table `keybroker_certificates`), so an operator can revoke by
 * serial whichever replica issued it. The primary key keeps the first record of a serial; `id` keeps issuance order.
 */
export class PgCertificateLog implements CertificateLog {
  constructor(private readonly pool: pg.Pool, private readonly health: StoreHealth) {}

  async record(certificate: IssuedCertificateRecord): Promise<void> {
    const { serial, spiffe_id, issuer_id, not_before, not_after, tee, verifier } = certificate;
    await this.health.guard('record certificate', () => this.pool.query(
      `INSERT INTO keybroker_certificates (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (serial) DO NOTHING`,
      [serial, spiffe_id, issuer_id, not_before, not_after, tee, verifier]));
  }

  async get(serial: string): Promise<IssuedCertificateRecord | undefined> {
    const result = await this.health.guard('read certificate', () =>
      this.pool.query<IssuedCertificateRecord>(`SELECT ${COLUMNS} FROM keybroker_certificates WHERE serial = $1`, [serial]));
    return result.rows[0];
  }

  async list(query: { issuerId?: string; limit: number }): Promise<IssuedCertificateRecord[]> {
    const result = await this.health.guard('list certificates', () => this.pool.query<IssuedCertificateRecord>(
      `SELECT ${COLUMNS} FROM keybroker_certificates WHERE $1::text IS NULL OR issuer_id = $1 ORDER BY id DESC LIMIT $2`,
      [query.issuerId ?? null, query.limit]));
    return result.rows;
  }
}
