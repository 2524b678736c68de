import { constants, createCipheriv, publicEncrypt, randomBytes } from 'node:crypto';
import type { FlattenedJWE } from 'jose';
import { encryptToClientKey } from '../resource-envelope.js';
import type { TeePublicKey } from './tee-pubkey.js';

/**
 * RSA1_5 (RSAES-PKCS1-v1_5) key wrapping for old guests, only where `[v0] allow_rsa1_5` is set. jose no longer
 * implements it, so the envelope is built here: a random A256GCM key wrapped with PKCS#1 v1.5, the encoded
 * protected header as AAD (RFC 7516 5.1).
 */
function encryptRsa1_5(value: Uint8Array, tee: TeePublicKey): FlattenedJWE {
  const protectedHeader = Buffer.from(JSON.stringify({ alg: 'RSA1_5', enc: 'A256GCM' }), 'utf8').toString('base64url');
  const contentKey = randomBytes(32);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', contentKey, iv).setAAD(Buffer.from(protectedHeader, 'ascii'));
  const ciphertext = Buffer.concat([cipher.update(value), cipher.final()]);
  return {
    protected: protectedHeader,
    encrypted_key: publicEncrypt({ key: tee.key, padding: constants.RSA_PKCS1_PADDING }, contentKey).toString('base64url'),
    iv: iv.toString('base64url'),
    ciphertext: ciphertext.toString('base64url'),
    tag: cipher.getAuthTag().toString('base64url'),
  };
}

/** PROTOCOL.md 2: a flattened JWE with `enc` A256GCM to the TEE's key. */
export async function encryptToTeePubkey(value: Uint8Array, tee: TeePublicKey): Promise<FlattenedJWE> {
  return tee.wrap === 'RSA1_5' ? encryptRsa1_5(value, tee) : encryptToClientKey(value, tee.key);
}
