import type { KeyObject, X509Certificate } from 'node:crypto';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type FlattenedJWSInput, type JWSHeaderParameters, type JWTPayload } from 'jose';
import { isKbsError, KbsError } from '../../domain/errors.js';
import type { JwksKeys, ResolvedKey } from './jwks-keys.js';
import { keyFromX5c } from './x5c-chain.js';

/** How one service's tokens are checked. */
export interface TokenRules {
  serviceName: string;
  algorithms: readonly string[];
  skewSeconds: number;
  issuer?: string;
  audience?: string;
  /** The service's published keys; absent: only `x5c` chains to `trustedCerts`. */
  jwks?: JwksKeys;
  trustedCerts: readonly X509Certificate[];
}

/** Compact JWS: three base64url parts; the size limit keeps a hostile token from costing much. */
export const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const MAX_TOKEN_CHARS = 256 * 1024;

function failed(service: string, what: string): KbsError {
  return new KbsError('attestation-failed', `token of attestation service "${service}": ${what}`);
}

/** A jose failure as a short, safe reason. */
function reasonOf(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `claim "${error.claim}" check failed (${error.reason})`;
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'signature algorithm not allowed';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature does not verify';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'signed by a key the service does not publish';
  if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid) return 'not a well-formed signed JWT';
  return 'does not verify';
}

/**
 * Verifies a service token: algorithm in the allow-list (never `none` or HMAC, refused by the config), signature by
 * a key from the service's JWKS or from an `x5c` chain to a trusted certificate (a bare header `jwk` is never
 * trusted), `exp` required, `exp`/`nbf`/`iat` within the skew, `iss`/`aud` when configured. Answers the payload.
 */
export async function verifyServiceToken(token: string, rules: TokenRules, now: Date): Promise<JWTPayload> {
  const service = rules.serviceName;
  if (token.length > MAX_TOKEN_CHARS || !COMPACT_JWS.test(token)) throw failed(service, 'not a compact JWS');
  let header: JWSHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw failed(service, 'the protected header does not decode');
  }
  if (typeof header.alg !== 'string' || !rules.algorithms.includes(header.alg)) throw failed(service, `algorithm ${JSON.stringify(header.alg)} not allowed`);

  const resolveKey = async (protectedHeader: JWSHeaderParameters, input: FlattenedJWSInput): Promise<ResolvedKey | KeyObject> => {
    if (protectedHeader.x5c !== undefined && rules.trustedCerts.length > 0) return keyFromX5c(protectedHeader.x5c, rules.trustedCerts, now);
    if (rules.jwks) return rules.jwks.keyFor(protectedHeader, input);
    throw failed(service, 'no x5c chain to a trusted certificate (a key embedded in the token is not trusted by itself)');
  };
  const verify = () => jwtVerify(token, resolveKey, {
    algorithms: [...rules.algorithms],
    clockTolerance: rules.skewSeconds,
    currentDate: now,
    requiredClaims: ['exp'],
    ...(rules.issuer !== undefined ? { issuer: rules.issuer } : {}),
    ...(rules.audience !== undefined ? { audience: rules.audience } : {}),
  });
  // A token without `kid` or `x5c` cannot say that its key is new: when no cached key verifies it, the set is read
  // again once and, if it changed (a rotation at the service), the token is tried once more.
  const keyMayBeNew = header.kid === undefined && header.x5c === undefined && rules.jwks !== undefined;
  let payload: JWTPayload;
  try {
    ({ payload } = await verify().catch(async (error: unknown) => {
      if (keyMayBeNew && error instanceof joseErrors.JWSSignatureVerificationFailed && (await rules.jwks!.refreshed())) return verify();
      throw error;
    }));
  } catch (error) {
    if (isKbsError(error)) throw error;
    throw failed(service, reasonOf(error));
  }
  // jose checks `iat` only against a maximum age; one from the future means a clock or a forgery problem.
  if (typeof payload.iat === 'number' && payload.iat > Math.floor(now.getTime() / 1000) + rules.skewSeconds) throw failed(service, 'issued in the future');
  return payload;
}
