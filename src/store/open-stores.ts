import { hostname } from 'node:os';
import type { Config } from '../config/config.js';
import type { Logger } from '../domain/logger.js';
import { openFsPolicyAndAudit, openFsStores } from './fs/fs-stores.js';
import type { Stores } from './ports.js';
import { openPgStores } from './postgres/pg-stores.js';

/** The store adapter named by `[store] backend`. */
export async function openStores(store: Config['store'], log: Logger): Promise<Stores> {
  if (store.backend === 'fs') return openFsStores(store.dataDir, { maxAgeMs: store.cacheMaxAgeMs, staleIfErrorMs: 0 });
  const shared = await openPgStores({
    url: store.url!,
    log,
    cacheMaxAgeMs: store.cacheMaxAgeMs,
    cacheStaleIfErrorMs: store.cacheStaleIfErrorSeconds * 1000,
    poolSize: store.poolSize,
  });
  // Until PolicyStore and AuditLog have PostgreSQL adapters they stay in the data directory, which replicas may
  // share: policy versions are never overwritten there, and each process writes its own audit chain.
  const auditFile = `audit-${hostname()}-${process.pid}.jsonl`;
  log.warn('policies and the audit log are kept under the data directory, not in PostgreSQL', { data_dir: store.dataDir, audit_file: auditFile });
  const { policies, audit } = await openFsPolicyAndAudit(store.dataDir, auditFile);
  return {
    ...shared,
    policies,
    audit,
    async close() {
      await shared.close();
      await audit.close();
    },
  };
}
