import type { AttestationStatus, TrustVector } from '../../domain/claims.js';
import { KbsError } from '../../domain/errors.js';
import { isRecord } from '../../domain/json-record.js';

/** EAR trustworthiness tiers (draft-ietf-rats-ar4si): no claim, affirming, warning, contraindicated. */
export const TIER = { none: 0, affirming: 2, warning: 32, contraindicated: 96 } as const;

/** The overall status from a trust vector: the worst tier wins; no hardware claim at all is `none`. */
export function statusOf(vector: TrustVector): AttestationStatus {
  const tiers = [vector.hardware, vector.executables, vector.configuration];
  if (tiers.some((tier) => tier >= TIER.contraindicated)) return 'contraindicated';
  if (vector.hardware === TIER.none) return 'none';
  if (tiers.some((tier) => tier >= TIER.warning)) return 'warning';
  return 'affirming';
}

/** A claim that must be an object; a token without it did not come from this kind of service. */
export function requireRecord(value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) throw new KbsError('attestation-failed', `the token has no ${what}`);
  return value;
}

const isScalar = (value: unknown): boolean => ['string', 'number', 'boolean'].includes(typeof value);

/**
 * The scalar claims (and arrays of scalars) among `record`'s keys that `keep` accepts, for `tee_claims`: nested
 * structures (collateral, runtime data, nonces) stay out so the certificate's claims stay small.
 */
export function scalarClaims(record: Record<string, unknown>, keep: (key: string) => boolean): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    if (!keep(key)) continue;
    if (isScalar(value) || (Array.isArray(value) && value.every(isScalar))) claims[key] = value;
  }
  return claims;
}

/** A hex claim of exactly `bytes` bytes as bytes; anything else (absent, malformed) is undefined. */
export function hexClaim(value: unknown, bytes: number): Buffer | undefined {
  if (typeof value !== 'string' || value.length !== bytes * 2 || !/^[0-9a-fA-F]*$/.test(value)) return undefined;
  return Buffer.from(value, 'hex');
}

/** A lowercase hex claim, when the token carries a hex string there. */
export function hexText(value: unknown): string | undefined {
  return typeof value === 'string' && /^(?:[0-9a-fA-F]{2})+$/.test(value) ? value.toLowerCase() : undefined;
}
