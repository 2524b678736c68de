import { sequence, unsignedInteger } from '../der.js';

/**
 * PKCS#11 (CKM_ECDSA) returns r || s, each as wide as the curve order; X.509 and CRL signatures carry
 * ECDSA-Sig-Value, SEQUENCE { r INTEGER, s INTEGER } (RFC 5480), minimally encoded and non-negative.
 */
export function rawEcdsaToDer(raw: Uint8Array): Buffer {
  if (raw.length === 0 || raw.length % 2 !== 0) throw new Error(`a raw ECDSA signature has an even, non-zero length, not ${raw.length}`);
  const half = raw.length / 2;
  return sequence(unsignedInteger(raw.subarray(0, half)), unsignedInteger(raw.subarray(half)));
}
