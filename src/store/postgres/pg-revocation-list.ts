import type pg from 'pg';
import { REVOCATION_TOPIC, type ChangeFeed } from '../change-feed.js';
import type { RevocationList, RevocationRecord } from '../ports.js';
import type { StoreHealth } from './store-health.js';

const COLUMNS = 'serial, issuer_id, revoked_at, reason, revoked_by, not_after';

/** The change feed, and whether it is connected: only then can this replica's copy of the revoked serials answer alone. */
export interface RevocationFeed extends ChangeFeed {
  /** True while change notifications arrive (PgChangeFeed.listening). */
  readonly listening: boolean;
}

/**
 * Revocations shared by every replica (table `keybroker_revocations`). `isRevoked` is asked on every authenticated
 * request, so each replica holds the revoked serials in memory: loaded at start, extended by the notification a
 * trigger sends for every new revocation (topic `revocation`, key the serial), reloaded after the feed reconnects.
 * While notifications may be missed (the feed is down, or the reload failed) a serial not known to be revoked is
 * looked up in the database instead, so a revocation never goes unseen for longer than the feed's delay; when the
 * database cannot answer either, the request fails with 503 rather than trusting a possibly revoked certificate.
 */
export class PgRevocationList implements RevocationList {
  private readonly revoked = new Set<string>();
  private loaded = false;
  private readonly unsubscribe: () => void;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly health: StoreHealth,
    private readonly feed: RevocationFeed,
  ) {
    // Subscribed before the first load, so a revocation made meanwhile is not missed.
    this.unsubscribe = feed.subscribe(REVOCATION_TOPIC, {
      changed: (serial) => void this.revoked.add(serial),
      resync: () => void this.reload().catch(() => undefined),
    });
  }

  static async open(pool: pg.Pool, health: StoreHealth, feed: RevocationFeed): Promise<PgRevocationList> {
    const list = new PgRevocationList(pool, health, feed);
    await list.reload().catch(() => undefined);
    return list;
  }

  private async reload(): Promise<void> {
    this.loaded = false;
    const { rows } = await this.health.guard('load revocations', () => this.pool.query<{ serial: string }>('SELECT serial FROM keybroker_revocations'));
    for (const row of rows) this.revoked.add(row.serial);
    this.loaded = true;
  }

  async revoke(revocation: RevocationRecord): Promise<{ created: boolean; revocation: RevocationRecord }> {
    const { serial, issuer_id, revoked_at, reason, revoked_by, not_after } = revocation;
    const inserted = await this.health.guard('revoke certificate', () => this.pool.query<RevocationRecord>(
      `INSERT INTO keybroker_revocations (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (serial) DO NOTHING RETURNING ${COLUMNS}`,
      [serial, issuer_id, revoked_at, reason, revoked_by, not_after]));
    this.revoked.add(serial);
    if (inserted.rows[0]) return { created: true, revocation: inserted.rows[0] };
    const existing = await this.health.guard('read revocation', () =>
      this.pool.query<RevocationRecord>(`SELECT ${COLUMNS} FROM keybroker_revocations WHERE serial = $1`, [serial]));
    return { created: false, revocation: existing.rows[0]! };
  }

  async isRevoked(serial: string): Promise<boolean> {
    if (this.revoked.has(serial)) return true;
    if (this.loaded && this.feed.listening) return false;
    const result = await this.health.guard('check revocation', () => this.pool.query('SELECT 1 FROM keybroker_revocations WHERE serial = $1', [serial]));
    if (result.rowCount === 1) this.revoked.add(serial);
    return result.rowCount === 1;
  }

  async list(issuerId?: string): Promise<RevocationRecord[]> {
    const result = await this.health.guard('list revocations', () => this.pool.query<RevocationRecord>(
      `SELECT ${COLUMNS} FROM keybroker_revocations WHERE $1::text IS NULL OR issuer_id = $1 ORDER BY id`, [issuerId ?? null]));
    return result.rows;
  }

  close(): void {
    this.unsubscribe();
  }
}
