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

/** A certificate serial as keybroker writes it: lowercase hex without leading zeros, at most 20 octets (RFC 5280 4.1.2.2). */
const SERIAL = /^[0-9a-f]{1,40}$/;

/** The canonical form of a serial given by an operator (any case, optional leading zeros or colons), or undefined. */
export function canonicalSerial(text: string): string | undefined {
  const hex = text.replace(/:/g, '').toLowerCase();
  if (!SERIAL.test(hex)) return undefined;
  return hex.replace(/^0+(?=.)/, '');
}
