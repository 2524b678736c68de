import type pg from 'pg';
import type { V0SessionStore } from '../ports.js';
import type { StoreHealth } from './store-health.js';

export interface PgV0SessionStoreOptions {
  /** Clock in milliseconds since the epoch; tests move it. */
  now?: () => number;
  /** How often expired sessions are deleted. */
  pruneIntervalMs?: number;
}

/**
 * Tokens of attested trustee-protocol sessions, shared by every replica. The primary key decides: of two replicas
 * recording a token for one session at the same moment, the first insert wins and both answer its token.
 */
export class PgV0SessionStore implements V0SessionStore {
  private readonly now: () => number;
  private readonly pruneTimer: NodeJS.Timeout;

  constructor(private readonly pool: pg.Pool, private readonly health: StoreHealth, options: PgV0SessionStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    this.pruneTimer = setInterval(() => void this.prune().catch(() => undefined), options.pruneIntervalMs ?? 60_000);
    this.pruneTimer.unref();
  }

  async attest(sessionId: string, token: string, expiresAt: Date): Promise<string> {
    // The no-op update makes RETURNING answer the row in force when the session already has a token.
    const result = await this.health.guard('record v0 session', () => this.pool.query<{ token: string }>(
      `INSERT INTO keybroker_v0_sessions (id, token, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET token = keybroker_v0_sessions.token RETURNING token`, [sessionId, token, expiresAt]));
    return result.rows[0]!.token;
  }

  async token(sessionId: string, now: Date): Promise<string | undefined> {
    const result = await this.health.guard('read v0 session', () => this.pool.query<{ token: string }>(
      'SELECT token FROM keybroker_v0_sessions WHERE id = $1 AND expires_at > $2', [sessionId, now]));
    return result.rows[0]?.token;
  }

  /** Deletes expired sessions; returns how many. */
  async prune(): Promise<number> {
    const result = await this.health.guard('prune v0 sessions', () =>
      this.pool.query('DELETE FROM keybroker_v0_sessions WHERE expires_at <= $1', [new Date(this.now())]));
    return result.rowCount ?? 0;
  }

  close(): void {
    clearInterval(this.pruneTimer);
  }
}
