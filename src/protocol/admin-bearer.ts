import type { KeyObject } from 'node:crypto';
import { errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { AdminTokenAlgorithm } from '../domain/admin-token.js';
import { KbsError } from '../domain/errors.js';

/** A configured issuer of admin bearer tokens (`[[admin.identity_provider]]`). */
export interface IdentityProvider {
  name: string;
  /** One public key, or a key set (JWKS file or URL) that picks the key by `kid`. */
  keys: KeyObject | JWTVerifyGetKey;
  algorithms: readonly AdminTokenAlgorithm[];
  issuer?: string;
  audience?: string;
}

/** The provider, not the token, failed: its JWKS URL did not answer, or answered something that is no key set. */
function providerFailed(error: unknown): boolean {
  if (!(error instanceof joseErrors.JOSEError)) return true;
  return error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid || error.code === 'ERR_JOSE_GENERIC';
}

function hasRole(payload: JWTPayload, role: string): boolean {
  const claim = payload.role;
  return claim === role || (Array.isArray(claim) && claim.includes(role));
}

/**
 * Admin bearer JWTs (PROTOCOL.md 1.8 and 2): a token some configured provider signed, unexpired, with the
 * provider's issuer and audience when configured. No provider accepts it (or none is configured): 401
 * `admin-auth-required`, or 503 `unavailable` when a provider that might have could not be asked for its keys;
 * accepted without the admin `role`: 403 `admin-forbidden`.
 */
export class AdminTokenVerifier {
  constructor(private readonly providers: readonly IdentityProvider[], private readonly role: string) {}

  /** The admin's name for logs: `<provider>/<sub>`. */
  async authenticate(token: string, now: Date): Promise<string> {
    if (this.providers.length === 0) throw new KbsError('admin-auth-required', 'bearer tokens are not accepted: no identity provider is configured');
    const unreachable: string[] = [];
    for (const provider of this.providers) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, provider.keys as JWTVerifyGetKey, {
          algorithms: [...provider.algorithms],
          currentDate: now,
          requiredClaims: ['exp'],
          ...(provider.issuer ? { issuer: provider.issuer } : {}),
          ...(provider.audience ? { audience: provider.audience } : {}),
        }));
      } catch (error) {
        if (providerFailed(error)) unreachable.push(provider.name);
        continue;
      }
      if (!hasRole(payload, this.role)) throw new KbsError('admin-forbidden', `the token has no "${this.role}" role`);
      return `${provider.name}/${typeof payload.sub === 'string' ? payload.sub : 'unknown'}`;
    }
    if (unreachable.length > 0) throw new KbsError('unavailable', `identity provider ${unreachable.map((name) => `"${name}"`).join(', ')} could not be asked for its keys`);
    throw new KbsError('admin-auth-required', 'the bearer token is not accepted by any configured identity provider');
  }
}

/** Reads `Authorization: Bearer <token>`; undefined without one. A different scheme is not a bearer token. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer +([A-Za-z0-9._~+/=-]+) *$/i.exec(authorization ?? '');
  return match ? match[1] : undefined;
}
