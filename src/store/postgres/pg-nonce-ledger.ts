import type pg from 'pg';
import type { NonceLedger } from '../ports.js';
import type { StoreHealth } from './store-health.js';

export interface PgNonceLedgerOptions {
  /** Clock in milliseconds since the epoch; tests move it. */
  now?: () => number;
  /** How often expired entries are deleted. */
  pruneIntervalMs?: number;
}

/**
 * Single-use nonces shared by every replica: the primary key decides, so of two replicas inserting one id at the
 * same moment exactly one succeeds. Expired rows are deleted periodically (by every replica; the delete is idempotent).
 */
export class PgNonceLedger implements NonceLedger {
  private readonly now: () => number;
  private readonly pruneTimer: NodeJS.Timeout;

  constructor(
    private readonly pool: pg.Pool,
    private readonly health: StoreHealth,
    options: PgNonceLedgerOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.pruneTimer = setInterval(() => void this.prune().catch(() => undefined), options.pruneIntervalMs ?? 60_000);
    this.pruneTimer.unref();
  }

  /** A nonce already past its expiry is refused: its row may have been pruned, so single use could not be promised. */
  async consume(nonceId: string, expiresAt: Date): Promise<boolean> {
    if (!(expiresAt.getTime() > this.now())) return false;
    const result = await this.health.guard('consume nonce', () =>
      this.pool.query('INSERT INTO keybroker_nonces (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [nonceId, expiresAt]));
    return result.rowCount === 1;
  }

  async isUsed(nonceId: string): Promise<boolean> {
    const result = await this.health.guard('check nonce', () =>
      this.pool.query('SELECT 1 FROM keybroker_nonces WHERE id = $1', [nonceId]));
    return result.rowCount === 1;
  }

  /** Deletes expired entries; returns how many. */
  async prune(): Promise<number> {
    const result = await this.health.guard('prune nonces', () =>
      this.pool.query('DELETE FROM keybroker_nonces WHERE expires_at <= $1', [new Date(this.now())]));
    return result.rowCount ?? 0;
  }

  close(): void {
    clearInterval(this.pruneTimer);
  }
}
