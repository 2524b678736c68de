import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { ConfigError } from './config-error.js';

export const DEFAULT_CONFIG_FILE_NAME = 'keybroker.toml';

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error ? String(error.code) : undefined;
}

/**
 * Reads and parses the config file. A file named by the operator must exist; the default `<home>/keybroker.toml`
 * may be missing, which gives an empty document (all defaults).
 */
export function readConfigFile(namedFile: string | undefined, home: string): Record<string, unknown> {
  const file = namedFile !== undefined ? resolve(namedFile) : join(home, DEFAULT_CONFIG_FILE_NAME);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' && namedFile === undefined) return {};
    throw new ConfigError(file, code === 'ENOENT' ? 'config file not found' : `cannot read config file (${code ?? String(error)})`);
  }
  try {
    // Integers as bigint: lets validation tell `600` from `600.0` and refuse integers beyond 2^53 exactly.
    return parse(text, { integersAsBigInt: true });
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    // smol-toml's message is several lines (with a code excerpt); keep its first line without the generic prefix.
    const reason = (error.message.split('\n')[0] ?? '').replace(/^Invalid TOML document: /, '');
    throw new ConfigError(`${file}:${error.line}:${error.column}`, `invalid TOML: ${reason}`);
  }
}
