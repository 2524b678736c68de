import { createHash, timingSafeEqual } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import type { JWK } from 'jose';
import type { HashAlgorithm } from './hash-algorithm.js';

// The package is CommonJS (`module.exports = fn`) while its typings declare an ES default export.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

/** The size of the report field the digest is right-padded to. */
const REPORT_DATA_BYTES = 64;

/**
 * PROTOCOL.md 2: the digest of the RFC 8785 canonical JSON of `{"tee-pubkey", "nonce", "additional-evidence"}`
 * with the negotiated hash algorithm.
 */
export function v0BindingDigest(input: { teePubkey: JWK; nonce: string; additionalEvidence: unknown }, algorithm: HashAlgorithm): Buffer {
  const canonical = canonicalize({ 'tee-pubkey': input.teePubkey, nonce: input.nonce, 'additional-evidence': input.additionalEvidence });
  if (canonical === undefined) throw new Error('runtime data has no JSON form');
  return createHash(algorithm).update(canonical, 'utf8').digest();
}

/** The digest right-padded with zeros to the 64-byte report field. */
export function v0ReportData(digest: Uint8Array): Buffer {
  const padded = Buffer.alloc(REPORT_DATA_BYTES);
  Buffer.from(digest).copy(padded);
  return padded;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Constant-time check of the report's user data: the padded digest (64 bytes), its first 32 bytes for a TEE
 * with a 32-byte field, or, for `sample` only, the digest itself unpadded as trustee's sample attester sends it.
 */
export function v0ReportDataMatches(reported: Uint8Array, digest: Uint8Array, tee: string): boolean {
  const padded = v0ReportData(digest);
  if (reported.length === REPORT_DATA_BYTES) return equal(reported, padded);
  if (tee === 'sample' && reported.length === digest.length) return equal(reported, digest);
  if (reported.length === 32) return equal(reported, padded.subarray(0, 32));
  return false;
}
