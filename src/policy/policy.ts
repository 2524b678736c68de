import type { Claims } from '../domain/claims.js';

/** The seam the CEL engine plugs into: both policies are pure decisions over claims. */
export interface AttestationDecision {
  allow: boolean;
  /** Overrides the SPIFFE id segment of the certificate. */
  id?: string;
  reason?: string;
}

export interface AttestationPolicy {
  evaluate(input: { claims: Omit<Claims, 'iat'>; tee: string }): AttestationDecision;
}

export interface ResourceRequest {
  claims: Claims;
  resource: { repository: string; type: string; tag: string; path: string };
  client: { spiffe_id: string; serial: string; not_after: string };
}

export interface ResourceDecision {
  allow: boolean;
  /** Which rule decided, for logs and the audit trail. */
  rule: string;
}

export interface ResourcePolicy {
  evaluate(request: ResourceRequest): ResourceDecision;
}
