import pg from 'pg';
import type { Logger } from '../../domain/logger.js';
import { CachedResourceStore } from '../cached-resource-store.js';
import type { Stores } from '../ports.js';
import { runMigrations } from './migrations.js';
import { PgAuditLog } from './pg-audit-log.js';
import { PgCertificateLog } from './pg-certificate-log.js';
import { PgChangeFeed } from './pg-change-feed.js';
import { PgIssuerRegistry } from './pg-issuer-registry.js';
import { PgKeyDirectory } from './pg-key-directory.js';
import { PgNonceLedger } from './pg-nonce-ledger.js';
import { PgPolicyStore } from './pg-policy-store.js';
import { PgResourceStore } from './pg-resource-store.js';
import { PgRevocationList } from './pg-revocation-list.js';
import { PgV0SessionStore } from './pg-v0-sessions.js';
import { StoreHealth } from './store-health.js';

export interface PgStoresOptions {
  /** `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`. */
  url: string;
  log: Logger;
  /** See ResourceCacheOptions. */
  cacheMaxAgeMs: number;
  /** Connections in the pool per replica. */
  poolSize?: number;
}

/** `host:port/database`: how logs and errors name the database, without user or password. */
export function describeDatabase(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
}

/** Fails fast when the database is away, so requests get 503 promptly instead of hanging. */
function connectionConfig(url: string): pg.ClientConfig {
  return { connectionString: url, connectionTimeoutMillis: 3_000, query_timeout: 10_000, keepAlive: true, application_name: 'keybroker' };
}

/** A pool on a migrated database, and the health tracker its ports share. Throws one clear line when the database cannot be reached. */
async function openMigratedPool(options: Pick<PgStoresOptions, 'url' | 'log' | 'poolSize'>): Promise<{ pool: pg.Pool; health: StoreHealth }> {
  const database = describeDatabase(options.url);
  const health = new StoreHealth(options.log, database, new URL(options.url).password || undefined);
  const pool = new pg.Pool({ ...connectionConfig(options.url), max: options.poolSize ?? 10, idleTimeoutMillis: 30_000 });
  // An idle connection that breaks emits here; without a listener that would end the process.
  pool.on('error', (error) => health.failed('idle connection', error));
  try {
    const applied = await runMigrations(pool);
    if (applied.length > 0) options.log.info('database migrated', { database, applied });
  } catch (error) {
    await pool.end().catch(() => undefined);
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new Error(`store: PostgreSQL at ${database}: ${reason}`);
  }
  return { pool, health };
}

/**
 * The issuer registry and the audit log its transitions are recorded in, for `keybroker ca ...` run with a
 * PostgreSQL `[store]`: a small pool (one connection holds the transition lock while the step queries on another).
 */
export async function openPgIssuerRegistry(
  options: Pick<PgStoresOptions, 'url' | 'log'>,
): Promise<{ registry: PgIssuerRegistry; audit: PgAuditLog; close(): Promise<void> }> {
  const { pool, health } = await openMigratedPool({ ...options, poolSize: 3 });
  const audit = new PgAuditLog(pool, health);
  return { registry: new PgIssuerRegistry(pool, health), audit, close: async () => { await audit.close(); await pool.end(); } };
}

/**
 * The shared store for several replicas: runs the migrations (under an advisory lock), then opens the pool, the
 * change feed and the per-replica resource cache; every port is kept in the database. Throws one clear line when the
 * database cannot be reached.
 */
export async function openPgStores(options: PgStoresOptions): Promise<Stores> {
  const { pool, health } = await openMigratedPool(options);
  const feed = new PgChangeFeed(connectionConfig(options.url));
  await feed.start();
  const resources = new CachedResourceStore(new PgResourceStore(pool, health), feed, {
    maxAgeMs: options.cacheMaxAgeMs,
  });
  const nonces = new PgNonceLedger(pool, health);
  const v0Sessions = new PgV0SessionStore(pool, health);
  const audit = new PgAuditLog(pool, health);
  const revocations = await PgRevocationList.open(pool, health, feed);
  let closing: Promise<void> | undefined;
  return {
    resources,
    nonces,
    v0Sessions,
    policies: new PgPolicyStore(pool, health),
    audit,
    revocations,
    certificates: new PgCertificateLog(pool, health),
    issuers: new PgIssuerRegistry(pool, health),
    keyDirectory: new PgKeyDirectory(pool, health),
    changes: feed,
    ready: () => health.guard('readiness check', () => pool.query('SELECT 1')).then(() => true, () => false),
    close() {
      closing ??= (async () => {
        nonces.close();
        v0Sessions.close();
        resources.close();
        revocations.close();
        await audit.close();
        await feed.close();
        await pool.end();
      })();
      return closing;
    },
  };
}
