import type pg from 'pg';
import type { PolicyStore, PolicyVersion } from '../ports.js';
import type { StoreHealth } from './store-health.js';

interface PolicyRow {
  version: number;
  text: string;
  author: string;
  created_at: Date;
}

function toVersion(row: PolicyRow): PolicyVersion {
  return { version: row.version, text: row.text, author: row.author, created_at: row.created_at.toISOString() };
}

const COLUMNS = 'version, text, author, created_at';

/**
 * Policy versions shared by every replica, one row per (kind, version). The primary key decides the number: of two
 * replicas appending at once, one inserts latest + 1 and the other finds it taken and tries the next one. A trigger
 * announces each new version on the change feed (topic `policy`, key: the kind).
 */
export class PgPolicyStore implements PolicyStore {
  constructor(private readonly pool: pg.Pool, private readonly health: StoreHealth) {}

  async latest(kind: string): Promise<PolicyVersion | undefined> {
    const result = await this.health.guard('read policy', () => this.pool.query<PolicyRow>(
      `SELECT ${COLUMNS} FROM keybroker_policies WHERE kind = $1 ORDER BY version DESC LIMIT 1`, [kind]));
    return result.rows[0] && toVersion(result.rows[0]);
  }

  async get(kind: string, version: number): Promise<PolicyVersion | undefined> {
    if (!Number.isSafeInteger(version) || version < 1 || version > 2_147_483_647) return undefined;
    const result = await this.health.guard('read policy', () => this.pool.query<PolicyRow>(
      `SELECT ${COLUMNS} FROM keybroker_policies WHERE kind = $1 AND version = $2`, [kind, version]));
    return result.rows[0] && toVersion(result.rows[0]);
  }

  async append(kind: string, text: string, author: string, at: Date): Promise<PolicyVersion> {
    for (;;) {
      // A concurrent insert of the same number makes this one insert nothing (after that one commits): try again.
      const result = await this.health.guard('store policy', () => this.pool.query<PolicyRow>(
        `INSERT INTO keybroker_policies (kind, version, text, author, created_at)
         SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4 FROM keybroker_policies WHERE kind = $1
         ON CONFLICT (kind, version) DO NOTHING RETURNING ${COLUMNS}`, [kind, text, author, at]));
      if (result.rows[0]) return toVersion(result.rows[0]);
    }
  }
}
