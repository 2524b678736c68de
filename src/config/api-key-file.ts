import { statSync } from 'node:fs';
import type { VerifierConfig } from './verifier-tables.js';

/**
 * `api_key_file`s that group or others may read, as warnings to log at every start: the key is a credential to the
 * attestation service. The message names the verifier and the mode, never the key.
 */
export function apiKeyFileWarnings(verifiers: readonly VerifierConfig[]): string[] {
  const warnings: string[] = [];
  for (const verifier of verifiers) {
    if (verifier.type === 'builtin' || verifier.apiKeyFile === undefined) continue;
    let mode: number;
    try {
      mode = statSync(verifier.apiKeyFile).mode & 0o777;
    } catch {
      continue;
    }
    if ((mode & 0o077) !== 0) {
      warnings.push(`verifier "${verifier.name}": api_key_file has mode ${mode.toString(8).padStart(4, '0')}; make it readable by the broker's user only (chmod 600)`);
    }
  }
  return warnings;
}
