import { createHash, timingSafeEqual } from 'node:crypto';
import type { JWK } from 'jose';
import { canonicalJson } from '../domain/canonical-json.js';

const V1_BIND_LABEL = 'keybroker-v1-bind';

/** PROTOCOL.md 1.2: SHA-512("keybroker-v1-bind" || 0x00 || nonce || 0x00 || SPKI). */
export function v1ReportData(nonce: string, spki: Uint8Array): Buffer {
  return createHash('sha512')
    .update(V1_BIND_LABEL, 'ascii')
    .update(Buffer.from([0]))
    .update(nonce, 'ascii')
    .update(Buffer.from([0]))
    .update(spki)
    .digest();
}

/**
 * Constant-time comparison of the report's user data with the expected binding. A TEE with a 32-byte field
 * carries the first 32 bytes; nothing shorter is accepted.
 */
export function reportDataMatches(reported: Uint8Array, expected: Uint8Array): boolean {
  if (reported.length !== 32 && reported.length !== 64) return false;
  const length = Math.min(reported.length, expected.length);
  return timingSafeEqual(Buffer.from(reported.subarray(0, length)), Buffer.from(expected.subarray(0, length)));
}

/** Hash algorithms of the trustee binding, spelled as trustee spells them in `extra-params`. */
export type V0HashAlgorithm = 'sha256' | 'sha384' | 'sha512';

/** The size of the report field the digest is right-padded to. */
const REPORT_DATA_BYTES = 64;

/**
 * PROTOCOL.md 2: the digest of the RFC 8785 canonical JSON of `{"tee-pubkey", "nonce", "additional-evidence"}`
 * with the negotiated hash algorithm.
 */
export function v0BindingDigest(input: { teePubkey: JWK; nonce: string; additionalEvidence: unknown }, algorithm: V0HashAlgorithm): Buffer {
  const canonical = canonicalJson({ 'tee-pubkey': input.teePubkey, nonce: input.nonce, 'additional-evidence': input.additionalEvidence });
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
