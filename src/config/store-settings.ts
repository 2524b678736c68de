import { resolve } from 'node:path';
import type { Config } from './config.js';
import type { ConfigSection } from './config-document.js';
import { ConfigError } from './config-error.js';
import { fromEnv, integerIn, oneOf, readPath, type ValueReader } from './config-values.js';

export const DATABASE_URL_ENV = 'KEYBROKER_DATABASE_URL';

/**
 * A `postgres://` or `postgresql://` URL with a host. The message never repeats the value: it may carry a password.
 */
export const readDatabaseUrl: ValueReader<string> = (value, key) => {
  const problem = 'must be a URL postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (value not shown: it may hold a password)';
  if (typeof value !== 'string') throw new ConfigError(key, problem);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(key, problem);
  }
  if ((url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') || url.hostname === '' || url.pathname.length < 2) {
    throw new ConfigError(key, problem);
  }
  return value;
};

/** `[store]`: the backend, its data directory and, for PostgreSQL, the URL (the environment overrides the file). */
export function readStoreSettings(store: ConfigSection, env: NodeJS.ProcessEnv, home: string): Config['store'] {
  const backend = store.optional('backend', oneOf(['fs', 'postgres'])) ?? 'fs';
  const fileUrl = store.optional('url', readDatabaseUrl);
  const envUrl = fromEnv(env, DATABASE_URL_ENV);
  const url = envUrl !== undefined ? readDatabaseUrl(envUrl, DATABASE_URL_ENV) : fileUrl;
  if (backend === 'postgres' && url === undefined) {
    throw new ConfigError('[store] url', `backend = "postgres" needs a database URL here or in ${DATABASE_URL_ENV}`);
  }
  if (backend === 'fs' && url !== undefined) {
    throw new ConfigError(envUrl !== undefined ? DATABASE_URL_ENV : '[store] url', 'a database URL is only used with [store] backend = "postgres"');
  }
  return {
    backend,
    dataDir: resolve(home, store.optional('data_dir', readPath) ?? 'data'),
    ...(url !== undefined ? { url } : {}),
    cacheMaxAgeMs: store.optional('cache_max_age_ms', integerIn(0, 60_000)) ?? 1000,
    poolSize: store.optional('pool_size', integerIn(1, 100)) ?? 10,
  };
}
