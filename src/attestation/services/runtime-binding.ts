import { createPublicKey, timingSafeEqual, type JsonWebKey } from 'node:crypto';
import type { JWK } from 'jose';
import { KbsError } from '../../domain/errors.js';
import { isRecord } from '../../domain/json-record.js';
import type { BindingRequest } from '../verifier.js';

function asObject(runtimeData: unknown): Record<string, unknown> | undefined {
  let value = runtimeData;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return isRecord(value) ? value : undefined;
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

function spkiOf(jwk: JWK): Buffer | undefined {
  try {
    return createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'der' });
  } catch {
    return undefined;
  }
}

/**
 * PROTOCOL.md 1.2, last paragraph: the token's runtime-data claim must hold exactly the requested nonce (else 403
 * `attestation-failed`: a token of another challenge) and a key equal to the requested one (else 403 `binding-mismatch`).
 * Keys are compared as DER SubjectPublicKeyInfo, so JWK member order and optional members do not matter.
 */
export function checkRuntimeData(runtimeData: unknown, binding: BindingRequest): void {
  const claim = asObject(runtimeData);
  if (!claim) throw new KbsError('attestation-failed', 'the token holds no runtime data object with "nonce" and "tee-pubkey"');
  if (typeof claim.nonce !== 'string' || !sameText(claim.nonce, binding.nonce)) {
    throw new KbsError('attestation-failed', 'the token\'s runtime data holds another nonce than this challenge\'s');
  }
  const tokenKey = claim['tee-pubkey'];
  const reported = typeof tokenKey === 'object' && tokenKey !== null ? spkiOf(tokenKey as JWK) : undefined;
  const expected = spkiOf(binding.publicKey);
  if (!reported || !expected || !reported.equals(expected)) {
    throw new KbsError('binding-mismatch', 'the token\'s runtime data binds another key than the CSR\'s');
  }
}
