import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, SignJWT, type JWK, type JWTVerifyGetKey } from 'jose';
import type { Claims } from '../../domain/claims.js';
import type { TokenSigningKeys } from '../../pki/token-signing-key.js';
import { TrusteeError } from './trustee-errors.js';

/** The claims of keybroker's attestation token (PROTOCOL.md 2). */
export interface V0TokenClaims {
  iss: string;
  sub: string;
  iat: number;
  exp: number;
  jti: string;
  tee: string;
  'tee-pubkey': JWK;
  cnf: { jwk: JWK };
  'kbs-claims': Claims;
}

export function tokenIssuer(trustDomain: string): string {
  return `spiffe://${trustDomain}`;
}

/** Signs the token with the current key (ES256, `kid` in the header). */
export async function issueV0Token(keys: TokenSigningKeys, claims: Omit<V0TokenClaims, 'jti' | 'cnf'>): Promise<string> {
  return new SignJWT({ ...claims, cnf: { jwk: claims['tee-pubkey'] } })
    .setProtectedHeader({ alg: 'ES256', kid: keys.current.kid, typ: 'JWT' })
    .setJti(randomUUID())
    .sign(keys.current.privateKey);
}

/** One key set per loaded set of signing keys: jose keeps the imported keys inside it. */
const keySets = new WeakMap<TokenSigningKeys, JWTVerifyGetKey>();

function keySetOf(keys: TokenSigningKeys): JWTVerifyGetKey {
  let keySet = keySets.get(keys);
  if (!keySet) {
    keySet = createLocalJWKSet(keys.jwks);
    keySets.set(keys, keySet);
  }
  return keySet;
}

/**
 * Verifies a token of this broker: ES256 only (so `none` and HMAC are refused), signed by the current or the
 * previous key, issued by this trust domain, unexpired at `now`. Anything else is 401.
 */
export async function verifyV0Token(token: string, keys: TokenSigningKeys, trustDomain: string, now: Date): Promise<V0TokenClaims> {
  try {
    const { payload } = await jwtVerify(token, keySetOf(keys), {
      algorithms: ['ES256'],
      issuer: tokenIssuer(trustDomain),
      currentDate: now,
      requiredClaims: ['exp', 'iat', 'jti', 'sub', 'tee', 'tee-pubkey', 'kbs-claims'],
    });
    return payload as unknown as V0TokenClaims;
  } catch {
    throw new TrusteeError('TokenVerifierError', 'token-invalid', 'the attestation token is not valid here (signer, algorithm, issuer or expiry)');
  }
}
