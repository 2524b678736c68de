import type { Config } from '../config/config.js';
import type { Logger } from '../domain/logger.js';
import { mkdir } from 'node:fs/promises';
import { FsCertificateLog } from './fs/fs-certificate-log.js';
import { openFsStores } from './fs/fs-stores.js';
import { FsRevocationList } from './fs/fs-revocation-list.js';
import type { Stores } from './ports.js';
import { openPgStores } from './postgres/pg-stores.js';

/** The store adapter named by `[store] backend`. */
export async function openStores(store: Config['store'], log: Logger): Promise<Stores> {
  if (store.backend === 'fs') return openFsStores(store.dataDir);
  const shared = await openPgStores({
    url: store.url!,
    log,
    cacheMaxAgeMs: store.cacheMaxAgeMs,
    cacheStaleIfErrorMs: store.cacheStaleIfErrorSeconds * 1000,
    poolSize: store.poolSize,
  });
  // Revocations and the certificate log have no PostgreSQL adapter yet: until they do, each replica keeps its own
  // in its data directory (a revocation is then seen only by the replica that recorded it).
  await mkdir(store.dataDir, { recursive: true, mode: 0o700 });
  const revocations = await FsRevocationList.open(store.dataDir);
  const certificates = await FsCertificateLog.open(store.dataDir);
  return {
    ...shared,
    revocations,
    certificates,
    close: async () => {
      await Promise.all([shared.close(), revocations.close(), certificates.close()]);
    },
  };
}
