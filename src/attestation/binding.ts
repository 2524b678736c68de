import { createHash, timingSafeEqual } from 'node:crypto';

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
