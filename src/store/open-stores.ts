import type { Config } from '../config/config.js';
import type { Logger } from '../domain/logger.js';
import { openFsStores } from './fs/fs-stores.js';
import type { Stores } from './ports.js';
import { openPgStores } from './postgres/pg-stores.js';

/** The store adapter named by `[store] backend`. */
export async function openStores(store: Config['store'], log: Logger): Promise<Stores> {
  if (store.backend === 'fs') return openFsStores(store.dataDir, { maxAgeMs: store.cacheMaxAgeMs });
  return openPgStores({
    url: store.url!,
    log,
    cacheMaxAgeMs: store.cacheMaxAgeMs,
    poolSize: store.poolSize,
  });
}
