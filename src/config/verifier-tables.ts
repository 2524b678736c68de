import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TEE_NAMES } from '../domain/claims.js';
import { ConfigError } from './config-error.js';
import { describeValue, integerIn, readHttpsUrl, readPath } from './config-values.js';

/** The external attestation services keybroker can use (README, "External verifiers"). */
export const SERVICE_TYPES = ['coco-as', 'intel-ta', 'azure-maa'] as const;
export type ServiceType = (typeof SERVICE_TYPES)[number];

/** Token signature algorithms a service may be allowed; `none` and HMAC never are. */
export const SERVICE_TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

/** One `[[verifier]]` table naming an external attestation service. */
export interface ServiceVerifierConfig {
  name: string;
  type: ServiceType;
  /** TEEs it handles; it is their default verifier unless an earlier table claimed them. */
  tees: string[];
  /** Base URL of the background-check API; absent: passport mode only. */
  url?: string;
  /** `file:///...` (absolute) or `https://...`. */
  jwks?: string;
  /** Absolute paths of PEM files whose certificates anchor `x5c` chains (coco-as). */
  trustedCerts: string[];
  issuer?: string;
  audience?: string;
  /** Absolute path of a file holding the service's API key (intel-ta). */
  apiKeyFile?: string;
  timeoutMs: number;
  /** Allowed token algorithms; absent: the service type's own. */
  algorithms?: string[];
  skewSeconds: number;
  /** Absolute path of a PEM bundle trusted for HTTPS to `url` and `jwks`; absent: the system roots. */
  tlsCaFile?: string;
  /** Attestation policies the service applies (coco-as `policy_ids`). */
  policyIds: string[];
}

/** `type = "builtin"`: the in-process verifier, made the default for `tees` at this table's place in the order. */
export interface BuiltinVerifierConfig {
  name: 'builtin';
  type: 'builtin';
  tees: string[];
}

export type VerifierConfig = ServiceVerifierConfig | BuiltinVerifierConfig;

const SERVICE_KEYS = [
  'name', 'type', 'tees', 'url', 'jwks', 'trusted_certs', 'issuer', 'audience', 'api_key_file', 'timeout_ms', 'algorithms',
  'skew_seconds', 'tls_ca_file', 'policy_ids',
];
const BUILTIN_KEYS = ['name', 'type', 'tees'];
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

type Table = Record<string, unknown>;

function text(table: Table, field: string, key: string): string | undefined {
  const value = table[field];
  // The example writes unset optional strings as "", so an empty string means unset.
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new ConfigError(`${key} ${field}`, `must be a string, got ${describeValue(value)}`);
  return value;
}

function stringList(table: Table, field: string, key: string, check?: (item: string) => string | undefined): string[] | undefined {
  const value = table[field];
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw new ConfigError(`${key} ${field}`, `must be an array of strings, got ${describeValue(value)}`);
  return value.map((item, index) => {
    if (typeof item !== 'string' || item === '') throw new ConfigError(`${key} ${field}[${index}]`, `must be a non-empty string, got ${describeValue(item)}`);
    const problem = check?.(item);
    if (problem !== undefined) throw new ConfigError(`${key} ${field}[${index}]`, problem);
    return item;
  });
}


/** `file://` with an absolute path, a bare path (resolved against the home), or an https URL. */
function jwksLocation(value: string, key: string, home: string): string {
  if (value.startsWith('https://')) return readHttpsUrl(value, `${key} jwks`);
  if (value.startsWith('file://')) {
    const path = decodeURIComponent(value.slice('file://'.length));
    if (!isAbsolute(path)) throw new ConfigError(`${key} jwks`, `${describeValue(value)} must name an absolute path (file:///...)`);
    return pathToFileURL(path).href;
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(value)) throw new ConfigError(`${key} jwks`, `${describeValue(value)} must be a file:// or https:// location`);
  return pathToFileURL(resolve(home, value)).href;
}

function homePath(table: Table, field: string, key: string, home: string): string | undefined {
  const value = text(table, field, key);
  return value === undefined ? undefined : resolve(home, readPath(value, `${key} ${field}`));
}

function readTees(table: Table, key: string): string[] {
  const tees = stringList(table, 'tees', key, (tee) => ((TEE_NAMES as readonly string[]).includes(tee) ? undefined : `${describeValue(tee)} is not a TEE (known: ${TEE_NAMES.join(', ')})`));
  if (tees === undefined || tees.length === 0) throw new ConfigError(`${key} tees`, 'is required: a non-empty array of TEE names');
  return [...new Set(tees)];
}

function rejectUnknown(table: Table, known: string[], key: string): void {
  const unknown = Object.keys(table).find((field) => !known.includes(field));
  if (unknown !== undefined) throw new ConfigError(`${key} ${unknown}`, `unknown key (known: ${known.join(', ')})`);
}

function readService(table: Table, type: ServiceType, name: string, key: string, home: string): ServiceVerifierConfig {
  rejectUnknown(table, SERVICE_KEYS, key);
  const url = text(table, 'url', key);
  const jwks = text(table, 'jwks', key);
  const trustedCerts = (stringList(table, 'trusted_certs', key) ?? []).map((path) => resolve(home, path));
  const algorithms = stringList(table, 'algorithms', key, (alg) => ((SERVICE_TOKEN_ALGORITHMS as readonly string[]).includes(alg) ? undefined
    : `${describeValue(alg)} is not allowed (allowed: ${SERVICE_TOKEN_ALGORITHMS.join(', ')}; never "none" or HMAC)`));
  if (algorithms !== undefined && algorithms.length === 0) throw new ConfigError(`${key} algorithms`, 'must not be empty');
  const apiKeyFile = homePath(table, 'api_key_file', key, home);
  if (type === 'intel-ta' && url !== undefined && apiKeyFile === undefined) throw new ConfigError(`${key} api_key_file`, 'is required for intel-ta with a url (the x-api-key header)');
  if (type === 'coco-as' && jwks === undefined && trustedCerts.length === 0) {
    throw new ConfigError(key, 'coco-as needs jwks or trusted_certs: a key embedded in a token is trusted only through them');
  }
  if (type !== 'coco-as' && jwks === undefined && url === undefined) throw new ConfigError(`${key} jwks`, `is required for ${type} without a url`);
  const issuer = text(table, 'issuer', key);
  const audience = text(table, 'audience', key);
  const tlsCaFile = homePath(table, 'tls_ca_file', key, home);
  const timeout = table.timeout_ms;
  const skew = table.skew_seconds;
  return {
    name,
    type,
    tees: readTees(table, key),
    ...(url !== undefined ? { url: readHttpsUrl(url, `${key} url`) } : {}),
    ...(jwks !== undefined ? { jwks: jwksLocation(jwks, key, home) } : {}),
    trustedCerts,
    ...(issuer !== undefined ? { issuer } : {}),
    ...(audience !== undefined ? { audience } : {}),
    ...(apiKeyFile !== undefined ? { apiKeyFile } : {}),
    timeoutMs: timeout === undefined ? 5000 : integerIn(1, 600_000)(timeout, `${key} timeout_ms`),
    ...(algorithms !== undefined ? { algorithms: [...new Set(algorithms)] } : {}),
    skewSeconds: skew === undefined ? 60 : integerIn(0, 3600)(skew, `${key} skew_seconds`),
    ...(tlsCaFile !== undefined ? { tlsCaFile } : {}),
    policyIds: stringList(table, 'policy_ids', key) ?? [],
  };
}

function readVerifier(value: unknown, key: string, home: string, names: Set<string>): VerifierConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(key, `must be a table, got ${describeValue(value)}`);
  const table = value as Table;
  const name = text(table, 'name', key);
  if (name === undefined || !NAME.test(name)) throw new ConfigError(`${key} name`, 'is required: 1 to 64 characters of [A-Za-z0-9_.-]');
  if (names.has(name)) throw new ConfigError(`${key} name`, `${JSON.stringify(name)} is used by another verifier`);
  names.add(name);
  const type = text(table, 'type', key);
  if (type === 'builtin') {
    rejectUnknown(table, BUILTIN_KEYS, key);
    if (name !== 'builtin') throw new ConfigError(`${key} name`, 'must be "builtin" for type "builtin" (certificates name it so)');
    return { name, type, tees: readTees(table, key) };
  }
  if (type === undefined || !(SERVICE_TYPES as readonly string[]).includes(type)) {
    throw new ConfigError(`${key} type`, `must be one of ${[...SERVICE_TYPES, 'builtin'].map((choice) => JSON.stringify(choice)).join(', ')}`);
  }
  if (name === 'builtin') throw new ConfigError(`${key} name`, '"builtin" is reserved for the in-process verifier');
  return readService(table, type as ServiceType, name, key, home);
}

/** The top-level `[[verifier]]` array of tables, in order; relative paths are resolved against the home. */
export function readVerifierTables(value: unknown, home: string): VerifierConfig[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ConfigError('verifier', 'must be an array of tables ([[verifier]])');
  const names = new Set<string>();
  return value.map((item, index) => readVerifier(item, `[[verifier]][${index}]`, home, names));
}
