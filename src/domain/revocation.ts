/**
 * Revocation reasons an operator may give, named as in RFC 5280 section 5.3.1. The CRL entry carries the
 * matching CRLReason code; `unspecified` is left out of the entry, as RFC 5280 recommends.
 */
export const REVOCATION_REASON_CODES = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  privilegeWithdrawn: 9,
} as const;

export type RevocationReason = keyof typeof REVOCATION_REASON_CODES;

export function isRevocationReason(value: unknown): value is RevocationReason {
  return typeof value === 'string' && Object.hasOwn(REVOCATION_REASON_CODES, value);
}
