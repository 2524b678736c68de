import type { Claims } from '../domain/claims.js';

/** The seam between the protocol handlers and the CEL engine: both policies are pure decisions over claims. */
export interface AttestationDecision {
  allow: boolean;
  /** Overrides the SPIFFE id segment of the certificate. */
  id?: string;
  reason?: string;
  /** The version of the policy that decided (set by the PolicyService). */
  policyVersion?: number;
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
  /** Why a matching rule denied when it was not a plain `false` (an evaluation error); never shown to clients. */
  reason?: string;
  /** The version of the policy that decided (set by the PolicyService). */
  policyVersion?: number;
}

export interface ResourcePolicy {
  evaluate(request: ResourceRequest): ResourceDecision;
}

export type PolicyKind = 'attestation' | 'resource';
