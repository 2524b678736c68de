import { X509Certificate } from 'node:crypto';
import type { JSONWebKeySet, JWK } from 'jose';

function hasPublicMembers(key: JWK): boolean {
  return key.n !== undefined || key.x !== undefined;
}

/**
 * Completes the keys of a JWKS that are given only by their certificate: Azure Attestation's `/certs` publishes
 * `kty`, `kid` and `x5c`, no `n`/`e`. The public members come from the first certificate; `kid`, `alg` and `use`
 * stay as published. A key whose certificate does not parse is left as it is (and so cannot verify anything).
 */
export function withKeysFromX5c(set: JSONWebKeySet): JSONWebKeySet {
  return {
    keys: set.keys.map((key) => {
      const first = Array.isArray(key.x5c) ? key.x5c[0] : undefined;
      if (hasPublicMembers(key) || typeof first !== 'string') return key;
      try {
        const publicJwk = new X509Certificate(Buffer.from(first, 'base64')).publicKey.export({ format: 'jwk' }) as JWK;
        return { ...key, ...publicJwk };
      } catch {
        return key;
      }
    }),
  };
}
