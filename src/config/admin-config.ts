import { resolve } from 'node:path';
import { ADMIN_TOKEN_ALGORITHMS, type AdminTokenAlgorithm } from '../domain/admin-token.js';
import { ConfigError } from './config-error.js';
import { describeValue, type ValueReader } from './config-values.js';

/** One `[[admin.identity_provider]]` table: where its keys are, which algorithms, which issuer and audience. */
export interface IdentityProviderConfig {
  name: string;
  /** Exactly one key source: a PEM public key file, a JWKS file, or a JWKS https URL. */
  source: { publicKeyFile: string } | { jwksFile: string } | { jwksUrl: string; caFile?: string };
  algorithms: AdminTokenAlgorithm[];
  issuer?: string;
  audience?: string;
}

const PROVIDER_KEYS = ['name', 'public_key_file', 'jwks_file', 'jwks_url', 'jwks_ca_file', 'algorithms', 'issuer', 'audience'];
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
/** The admin role is compared verbatim with the token's `role` claim. */
export const readRole: ValueReader<string> = (value, key) => {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_.:/-]{1,128}$/.test(value)) throw new ConfigError(key, `must be 1 to 128 characters of [A-Za-z0-9_.:/-], got ${describeValue(value)}`);
  return value;
};

function optionalText(table: Record<string, unknown>, field: string, key: string): string | undefined {
  const value = table[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new ConfigError(`${key} ${field}`, `must be a non-empty string, got ${describeValue(value)}`);
  return value;
}

function readAlgorithms(value: unknown, key: string): AdminTokenAlgorithm[] {
  if (value === undefined) return [...ADMIN_TOKEN_ALGORITHMS];
  const allowed = ADMIN_TOKEN_ALGORITHMS as readonly string[];
  if (!Array.isArray(value) || value.length === 0 || !value.every((item) => typeof item === 'string' && allowed.includes(item))) {
    throw new ConfigError(`${key} algorithms`, `must be a non-empty array of ${ADMIN_TOKEN_ALGORITHMS.map((name) => JSON.stringify(name)).join(', ')}`);
  }
  return [...new Set(value as AdminTokenAlgorithm[])];
}

function readProvider(value: unknown, key: string, home: string, names: Set<string>): IdentityProviderConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(key, `must be a table, got ${describeValue(value)}`);
  const table = value as Record<string, unknown>;
  const unknown = Object.keys(table).find((field) => !PROVIDER_KEYS.includes(field));
  if (unknown !== undefined) throw new ConfigError(`${key} ${unknown}`, `unknown key (known: ${PROVIDER_KEYS.join(', ')})`);
  const name = optionalText(table, 'name', key);
  if (name === undefined || !NAME.test(name)) throw new ConfigError(`${key} name`, 'is required: 1 to 64 characters of [A-Za-z0-9_.-]');
  if (names.has(name)) throw new ConfigError(`${key} name`, `${JSON.stringify(name)} is used by another identity provider`);
  names.add(name);
  const publicKeyFile = optionalText(table, 'public_key_file', key);
  const jwksFile = optionalText(table, 'jwks_file', key);
  const jwksUrl = optionalText(table, 'jwks_url', key);
  if ([publicKeyFile, jwksFile, jwksUrl].filter((source) => source !== undefined).length !== 1) {
    throw new ConfigError(key, 'needs exactly one of public_key_file, jwks_file, jwks_url');
  }
  if (jwksUrl !== undefined && !/^https:\/\/[^\s]+$/.test(jwksUrl)) throw new ConfigError(`${key} jwks_url`, 'must be an https:// URL');
  const caFile = optionalText(table, 'jwks_ca_file', key);
  if (caFile !== undefined && jwksUrl === undefined) throw new ConfigError(`${key} jwks_ca_file`, 'is only used with jwks_url');
  const source = publicKeyFile !== undefined ? { publicKeyFile: resolve(home, publicKeyFile) }
    : jwksFile !== undefined ? { jwksFile: resolve(home, jwksFile) }
    : { jwksUrl: jwksUrl!, ...(caFile !== undefined ? { caFile: resolve(home, caFile) } : {}) };
  const issuer = optionalText(table, 'issuer', key);
  const audience = optionalText(table, 'audience', key);
  return { name, source, algorithms: readAlgorithms(table.algorithms, key), ...(issuer ? { issuer } : {}), ...(audience ? { audience } : {}) };
}

/** `[[admin.identity_provider]]`: an array of tables; relative file paths are resolved against the home. */
export function readIdentityProviders(home: string): ValueReader<IdentityProviderConfig[]> {
  return (value, key) => {
    if (!Array.isArray(value)) throw new ConfigError(key, 'must be an array of tables ([[admin.identity_provider]])');
    const names = new Set<string>();
    return value.map((item, index) => readProvider(item, `${key}[${index}]`, home, names));
  };
}
