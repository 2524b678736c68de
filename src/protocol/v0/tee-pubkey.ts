import { createPublicKey, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { KbsError } from '../../domain/errors.js';
import { TrusteeError } from './trustee-errors.js';

/** How a resource is wrapped for the TEE (PROTOCOL.md 2). */
export type KeyWrapAlgorithm = 'ECDH-ES+A256KW' | 'RSA-OAEP-256' | 'RSA1_5';

export interface TeePublicKey {
  /** The JWK as the TEE sent it (it goes into the binding and the token unchanged). */
  jwk: JWK;
  key: KeyObject;
  wrap: KeyWrapAlgorithm;
}

const EC_CURVES = ['P-256', 'P-384', 'P-521'];
const MIN_RSA_BITS = 2048;

/**
 * Reads `runtime-data.tee-pubkey`: an EC key on P-256, P-384 or P-521, or an RSA key of 2048 bits or more, as a
 * public JWK. An RSA key whose `alg` is `RSA1_5` is refused unless `[v0] allow_rsa1_5` is set.
 */
export function parseTeePubkey(value: unknown, allowRsa1_5: boolean): TeePublicKey {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new KbsError('bad-request', '"tee-pubkey" must be a JWK object');
  const jwk = value as JWK;
  if ('d' in jwk || 'p' in jwk) throw new KbsError('bad-request', '"tee-pubkey" must not contain private key material');
  let wrap: KeyWrapAlgorithm;
  if (jwk.kty === 'EC') {
    if (typeof jwk.crv !== 'string' || !EC_CURVES.includes(jwk.crv)) throw new KbsError('bad-request', '"tee-pubkey" EC keys must use P-256, P-384 or P-521');
    if (jwk.alg !== undefined && jwk.alg !== 'ECDH-ES+A256KW') throw new KbsError('bad-request', '"tee-pubkey" EC keys take "alg" ECDH-ES+A256KW or none');
    wrap = 'ECDH-ES+A256KW';
  } else if (jwk.kty === 'RSA') {
    if (jwk.alg === 'RSA1_5') {
      if (!allowRsa1_5) throw new TrusteeError('JweError', 'bad-request', 'RSA1_5 key wrapping is disabled on this broker; use RSA-OAEP-256 or an EC key');
      wrap = 'RSA1_5';
    } else if (jwk.alg === undefined || jwk.alg === 'RSA-OAEP-256') {
      wrap = 'RSA-OAEP-256';
    } else {
      throw new KbsError('bad-request', '"tee-pubkey" RSA keys take "alg" RSA-OAEP-256 (or RSA1_5 where enabled)');
    }
  } else {
    throw new KbsError('bad-request', '"tee-pubkey" must be an EC or RSA key');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: { kty: jwk.kty, ...(jwk.kty === 'EC' ? { crv: jwk.crv, x: jwk.x, y: jwk.y } : { n: jwk.n, e: jwk.e }) } as never, format: 'jwk' });
  } catch {
    throw new KbsError('bad-request', '"tee-pubkey" is not a valid public key');
  }
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) {
    throw new KbsError('bad-request', `"tee-pubkey" RSA keys need at least ${MIN_RSA_BITS} bits`);
  }
  return { jwk, key, wrap };
}
