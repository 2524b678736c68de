import type { KeyObject } from 'node:crypto';
import { FlattenedEncrypt, type FlattenedJWE } from 'jose';
import { KbsError } from '../domain/errors.js';

export const JOSE_JSON = 'application/jose+json';

/**
 * The end-to-end envelope for paths where TLS ends at a proxy (PROTOCOL.md 1.5): a flattened JWE with `enc`
 * A256GCM to the client's own key: ECDH-ES+A256KW for EC keys, RSA-OAEP-256 for RSA keys.
 */
export async function encryptToClientKey(value: Uint8Array, publicKey: KeyObject): Promise<FlattenedJWE> {
  const type = publicKey.asymmetricKeyType;
  const alg = type === 'ec' ? 'ECDH-ES+A256KW' : type === 'rsa' ? 'RSA-OAEP-256' : undefined;
  if (!alg) throw new KbsError('bad-request', `an ${JOSE_JSON} envelope needs an EC or RSA client key; this certificate holds ${type ?? 'another'} key`);
  return new FlattenedEncrypt(value).setProtectedHeader({ alg, enc: 'A256GCM' }).encrypt(publicKey);
}
