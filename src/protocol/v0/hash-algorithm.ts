import type { V0HashAlgorithm as HashAlgorithm } from '../../attestation/binding.js';
import { KbsError } from '../../domain/errors.js';

export const DEFAULT_HASH_ALGORITHM: HashAlgorithm = 'sha384';
const KNOWN: readonly HashAlgorithm[] = ['sha384', 'sha512', 'sha256'];

/** Reads `extra-params` of /auth: an object, a JSON text of one, or "" (nothing). */
function teeParameters(extraParams: unknown): Record<string, unknown> {
  let value = extraParams;
  if (typeof value === 'string') {
    if (value.trim() === '') return {};
    try {
      value = JSON.parse(value);
    } catch {
      throw new KbsError('bad-request', '"extra-params" must be a JSON object or ""');
    }
  }
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new KbsError('bad-request', '"extra-params" must be a JSON object or ""');
  return value as Record<string, unknown>;
}

/**
 * Hash-algorithm negotiation: `se` needs SHA-512 (its report field is a SHA-512 digest); every other TEE gets
 * SHA-384 unless its `supported-hash-algorithms` leaves it out, then the strongest one it lists.
 */
export function negotiateHashAlgorithm(tee: string, extraParams: unknown): HashAlgorithm {
  const listed = teeParameters(extraParams)['supported-hash-algorithms'];
  if (listed === undefined) return tee === 'se' ? 'sha512' : DEFAULT_HASH_ALGORITHM;
  if (!Array.isArray(listed) || listed.length > 16 || !listed.every((item) => typeof item === 'string')) {
    throw new KbsError('bad-request', '"supported-hash-algorithms" must be an array of strings');
  }
  const supported = new Set(listed.map((item) => item.toLowerCase().replace('-', '')));
  const preference: readonly HashAlgorithm[] = tee === 'se' ? ['sha512'] : KNOWN;
  const chosen = preference.find((algorithm) => supported.has(algorithm));
  if (!chosen) throw new KbsError('bad-request', `none of the supported hash algorithms fits TEE "${tee}" (${preference.join(', ')})`);
  return chosen;
}

/** The `extra-params` of the /auth answer: "" for the default, else the selection (trustee's shape). */
export function extraParamsAnswer(algorithm: HashAlgorithm): '' | { 'selected-hash-algorithm': HashAlgorithm } {
  return algorithm === DEFAULT_HASH_ALGORITHM ? '' : { 'selected-hash-algorithm': algorithm };
}
