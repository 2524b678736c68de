import type pg from 'pg';
import type { IssuerEntry, IssuerRegistry, IssuerState } from '../../domain/issuer-registry.js';
import type { StoreHealth } from './store-health.js';

/** Any fixed number; every keybroker process takes the same one for CA transitions. */
const CA_TRANSITION_LOCK = 0x6b626361;

interface IssuerRow {
  id: string;
  state: IssuerState;
  certificate: string;
  updated_at: Date;
}

/**
 * Issuing-CA states shared by every replica and by the `keybroker ca` commands run with the same `[store]`. One
 * statement records all entries of a transition, so activation (successor active, predecessor retired) is atomic;
 * a trigger announces each change on the change feed (topic `ca`, key: the issuer id) and replicas reload their CA.
 */
export class PgIssuerRegistry implements IssuerRegistry {
  constructor(private readonly pool: pg.Pool, private readonly health: StoreHealth) {}

  async list(): Promise<IssuerEntry[]> {
    const { rows } = await this.health.guard('read issuer states', () => this.pool.query<IssuerRow>(
      'SELECT id, state, certificate, updated_at FROM keybroker_ca_issuers ORDER BY id'));
    return rows.map((row) => ({ id: row.id, state: row.state, certificatePem: row.certificate, updatedAt: row.updated_at.toISOString() }));
  }

  async record(entries: readonly { id: string; state: IssuerState; certificatePem: string }[], at: Date): Promise<void> {
    if (entries.length === 0) return;
    await this.health.guard('record issuer states', () => this.pool.query(
      `INSERT INTO keybroker_ca_issuers (id, state, certificate, updated_at)
       SELECT id, state, certificate, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS entry (id, state, certificate)
       ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at`,
      [entries.map((entry) => entry.id), entries.map((entry) => entry.state), entries.map((entry) => entry.certificatePem), at]));
  }

  /** Holds a session advisory lock on a connection of its own while `step` runs its queries on the pool. */
  async exclusive<T>(step: () => Promise<T>): Promise<T> {
    const client = await this.health.guard('lock issuer states', () => this.pool.connect());
    let locked = false;
    let broken = false;
    try {
      await this.health.guard('lock issuer states', () => client.query('SELECT pg_advisory_lock($1)', [CA_TRANSITION_LOCK]));
      locked = true;
      return await step();
    } finally {
      if (locked) await client.query('SELECT pg_advisory_unlock($1)', [CA_TRANSITION_LOCK]).catch(() => { broken = true; });
      // A connection that may still hold the lock is closed rather than returned to the pool.
      client.release(broken || !locked);
    }
  }
}
