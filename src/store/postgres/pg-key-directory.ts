import type pg from 'pg';
import type { KeyDirectory, PublishedKey } from '../ports.js';
import type { StoreHealth } from './store-health.js';

interface KeyRow {
  purpose: string;
  kid: string;
  public_jwk: string;
  published_at: Date;
}

/**
 * Public keys every replica publishes, one row per (purpose, kid): the first record stays. A trigger announces each
 * new key on the change feed (topic `published-key`, key: the purpose).
 */
export class PgKeyDirectory implements KeyDirectory {
  constructor(private readonly pool: pg.Pool, private readonly health: StoreHealth) {}

  async publish(keys: readonly Omit<PublishedKey, 'publishedAt'>[], at: Date): Promise<void> {
    if (keys.length === 0) return;
    await this.health.guard('publish keys', () => this.pool.query(
      `INSERT INTO keybroker_published_keys (purpose, kid, public_jwk, published_at)
       SELECT purpose, kid, public_jwk, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS published (purpose, kid, public_jwk)
       ON CONFLICT (purpose, kid) DO NOTHING`,
      [keys.map((key) => key.purpose), keys.map((key) => key.kid), keys.map((key) => JSON.stringify(key.publicJwk)), at]));
  }

  async recent(purpose: string, limit: number): Promise<PublishedKey[]> {
    const { rows } = await this.health.guard('read published keys', () => this.pool.query<KeyRow>(
      `SELECT purpose, kid, public_jwk, published_at FROM keybroker_published_keys
       WHERE purpose = $1 ORDER BY published_at DESC, kid LIMIT $2`, [purpose, limit]));
    return rows.map((row) => ({
      purpose: row.purpose, kid: row.kid, publicJwk: JSON.parse(row.public_jwk) as Record<string, unknown>, publishedAt: row.published_at.toISOString(),
    }));
  }
}
