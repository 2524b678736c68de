import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import { CachedResourceStore, type ResourceCacheOptions } from '../cached-resource-store.js';
import { ChangeSubscribers } from '../change-feed.js';
import type { Stores } from '../ports.js';
import { FsAuditLog } from './fs-audit-log.js';
import { FsCertificateLog } from './fs-certificate-log.js';
import { FsNonceLedger } from './fs-nonce-ledger.js';
import { FsPolicyStore } from './fs-policy-store.js';
import { FsResourceStore } from './fs-resource-store.js';
import { FsRevocationList } from './fs-revocation-list.js';
import { FsV0SessionStore } from './fs-v0-sessions.js';

async function isWritableDirectory(dir: string): Promise<boolean> {
  try {
    if (!(await stat(dir)).isDirectory()) return false;
    await access(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Policy versions and the audit log under the data directory (created, mode 0700, when missing). */
export async function openFsPolicyAndAudit(dataDir: string): Promise<{ policies: FsPolicyStore; audit: FsAuditLog }> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  return { policies: new FsPolicyStore(dataDir), audit: await FsAuditLog.open(dataDir) };
}

/**
 * The embedded store: everything under one data directory, created (mode 0700) when missing. Resource reads are
 * cached: writes through this process drop their entry at once, and a file changed behind the broker's back is
 * seen within `cache.maxAgeMs`. One process owns the directory, so the change feed has no other publisher.
 */
export async function openFsStores(dataDir: string, cache: ResourceCacheOptions = { maxAgeMs: 0 }): Promise<Stores> {
  const { policies, audit } = await openFsPolicyAndAudit(dataDir);
  const nonces = await FsNonceLedger.open(dataDir);
  const revocations = await FsRevocationList.open(dataDir);
  const certificates = await FsCertificateLog.open(dataDir);
  return {
    resources: new CachedResourceStore(new FsResourceStore(dataDir), new ChangeSubscribers(), cache),
    nonces,
    policies,
    audit,
    revocations,
    certificates,
    v0Sessions: await FsV0SessionStore.open(dataDir),
    ready: () => isWritableDirectory(dataDir),
    close: async () => {
      await Promise.all([nonces.close(), audit.close(), revocations.close(), certificates.close()]);
    },
  };
}
