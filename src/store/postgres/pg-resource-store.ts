import type pg from 'pg';
import type { PutResult, ResourceMeta, ResourceStore } from '../ports.js';
import type { StoreHealth } from './store-health.js';

interface MetaRow {
  path: string;
  size: number;
  version: number;
  updated_at: Date;
}

function toMeta(row: MetaRow): ResourceMeta {
  return { path: row.path, size: Number(row.size), version: row.version, updated_at: row.updated_at.toISOString() };
}

/**
 * Resources in one table: the current value and a version counter per path (replaced values are not kept, so a
 * rotated secret is gone from the store). Each write is one statement, so it is atomic; an upsert makes concurrent
 * writers of one path from several replicas get distinct, consecutive versions. A trigger notifies the replicas.
 */
export class PgResourceStore implements ResourceStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly health: StoreHealth,
  ) {}

  async get(path: string): Promise<Uint8Array | undefined> {
    const result = await this.health.guard('read resource', () =>
      this.pool.query<{ value: Buffer }>('SELECT value FROM keybroker_resources WHERE path = $1', [path]));
    return result.rows[0]?.value;
  }

  async put(path: string, value: Uint8Array): Promise<PutResult> {
    const result = await this.health.guard('write resource', () =>
      this.pool.query<MetaRow>(
        `INSERT INTO keybroker_resources AS r (path, value, version, updated_at) VALUES ($1, $2, 1, $3)
         ON CONFLICT (path) DO UPDATE SET value = EXCLUDED.value, version = r.version + 1, updated_at = EXCLUDED.updated_at
         RETURNING path, octet_length(value) AS size, version, updated_at`,
        [path, Buffer.from(value.buffer, value.byteOffset, value.byteLength), new Date()],
      ));
    const meta = toMeta(result.rows[0]!);
    // A path deleted and written again starts over at 1, as a new resource.
    return { created: meta.version === 1, meta };
  }

  async delete(path: string): Promise<boolean> {
    const result = await this.health.guard('delete resource', () =>
      this.pool.query('DELETE FROM keybroker_resources WHERE path = $1', [path]));
    return (result.rowCount ?? 0) > 0;
  }

  async list(prefix = ''): Promise<ResourceMeta[]> {
    const result = await this.health.guard('list resources', () =>
      this.pool.query<MetaRow>(
        `SELECT path, octet_length(value) AS size, version, updated_at FROM keybroker_resources
         WHERE starts_with(path, $1) ORDER BY path COLLATE "C"`,
        [prefix],
      ));
    return result.rows.map(toMeta);
  }
}
