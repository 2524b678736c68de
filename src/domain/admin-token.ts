/** Signature algorithms accepted for admin bearer JWTs (PROTOCOL.md 1.8): asymmetric only, never `none` or HMAC. */
export const ADMIN_TOKEN_ALGORITHMS = ['EdDSA', 'ES256', 'RS256'] as const;
export type AdminTokenAlgorithm = (typeof ADMIN_TOKEN_ALGORITHMS)[number];
