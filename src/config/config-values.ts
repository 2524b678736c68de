import { isIPv4, isIPv6 } from 'node:net';
import { TomlDate } from 'smol-toml';
import { ConfigError } from './config-error.js';
import type { ListenAddress } from './config.js';

/**
 * Turns one raw value (from TOML, parsed with integers as bigint, or from the environment) into a typed setting.
 * `key` names the setting in the error, e.g. `[server] listen` or `KEYBROKER_LISTEN`.
 */
export type ValueReader<T> = (value: unknown, key: string) => T;

/** How a raw value shows in an error message; strings are JSON-quoted so the message stays on one line. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `integer ${value}`;
  if (typeof value === 'number') return `float ${value}`;
  if (typeof value === 'boolean') return `boolean ${value}`;
  if (value instanceof TomlDate) return `date ${value.toISOString()}`;
  if (Array.isArray(value)) return 'an array';
  return 'a table';
}

/** An empty variable counts as unset, as shells make `VAR= cmd` easy to write by accident. */
export function fromEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function wrongType(key: string, expected: string, value: unknown): ConfigError {
  return new ConfigError(key, `must be ${expected}, got ${describeValue(value)}`);
}

export function integerIn(min: number, max: number): ValueReader<number> {
  return (value, key) => {
    // TOML is parsed with integers as bigint, so a float such as 600.5 (or 600.0) is told apart from an integer.
    if (typeof value !== 'bigint') throw wrongType(key, 'an integer', value);
    if (value < BigInt(min) || value > BigInt(max)) {
      throw new ConfigError(key, `${value} is out of range ${min}..${max}`);
    }
    return Number(value);
  };
}

export const positiveInteger: ValueReader<number> = integerIn(1, Number.MAX_SAFE_INTEGER);

export const readBoolean: ValueReader<boolean> = (value, key) => {
  if (typeof value !== 'boolean') throw wrongType(key, 'true or false', value);
  return value;
};

export function oneOf<const T extends string>(allowed: readonly T[]): ValueReader<T> {
  const listed = allowed.map((choice) => JSON.stringify(choice)).join(', ');
  return (value, key) => {
    if (typeof value !== 'string') throw wrongType(key, `a string (one of ${listed})`, value);
    if (!(allowed as readonly string[]).includes(value)) {
      throw new ConfigError(key, `${describeValue(value)} is not allowed (allowed: ${listed})`);
    }
    return value as T;
  };
}

function readString(value: unknown, key: string): string {
  if (typeof value !== 'string') throw wrongType(key, 'a string', value);
  return value;
}

/** A directory or file path; relative ones are resolved by the caller against the home. */
export const readPath: ValueReader<string> = (value, key) => {
  const path = readString(value, key);
  if (path === '') throw new ConfigError(key, 'must not be empty');
  return path;
};

const DNS_LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const DNS_NAME = new RegExp(`^${DNS_LABEL}(?:\\.${DNS_LABEL})*$`);

function isDnsName(name: string): boolean {
  return name.length <= 253 && DNS_NAME.test(name);
}

/** A lowercase DNS name: it appears verbatim in SPIFFE IDs and certificate subjects. */
export const readDnsName: ValueReader<string> = (value, key) => {
  const name = readString(value, key);
  if (!isDnsName(name)) {
    throw new ConfigError(key, `${describeValue(name)} is not a DNS name (lowercase letters, digits, dots, hyphens)`);
  }
  return name;
};

/** A host name, not an IPv4 look-alike such as 999.1.1.1: a top-level label is never all digits. */
function isHostName(host: string): boolean {
  const lower = host.toLowerCase();
  return isDnsName(lower) && !/^\d+$/.test(lower.slice(lower.lastIndexOf('.') + 1));
}

const HOST_PORT = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d+)$/;

/** `host:port`, IPv6 in brackets (`[::1]:8080`); port 0 asks the system for any free port. */
export const readListenAddress: ValueReader<ListenAddress> = (value, key) => {
  const text = readString(value, key);
  const match = HOST_PORT.exec(text);
  if (!match) throw new ConfigError(key, `${describeValue(text)} is not host:port (IPv6 as "[::1]:8080")`);
  const [, bracketed, plain, portText = ''] = match;
  const port = Number(portText);
  if (port > 65535) throw new ConfigError(key, `${describeValue(text)}: port ${portText} is out of range 0..65535`);
  const host = bracketed ?? plain ?? '';
  const valid = bracketed !== undefined ? isIPv6(host) : isIPv4(host) || isHostName(host);
  if (!valid) {
    throw new ConfigError(key, `${describeValue(text)}: ${describeValue(host)} is not a host name or IP address`);
  }
  return { host, port };
};

/** An https URL without query or fragment, trailing slashes removed (service base URLs). */
export const readHttpsUrl: ValueReader<string> = (value, key) => {
  if (typeof value !== 'string') throw new ConfigError(key, `must be an https URL, got ${describeValue(value)}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(key, `${describeValue(value)} is not a URL`);
  }
  if (url.protocol !== 'https:' || url.search !== '' || url.hash !== '') {
    throw new ConfigError(key, `${describeValue(value)} must be an https URL without query or fragment`);
  }
  return value.replace(/\/+$/, '');
};
