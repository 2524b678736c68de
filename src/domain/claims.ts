/** Normalized attestation claims (PROTOCOL.md 1.4): what every verifier returns and every certificate carries. */
export type AttestationStatus = 'affirming' | 'warning' | 'contraindicated' | 'none';

export interface TrustVector {
  hardware: number;
  executables: number;
  configuration: number;
}

export interface Claims {
  v: 1;
  tee: string;
  verifier: string;
  status: AttestationStatus;
  tcb_status: string;
  measurement?: string;
  init_data?: string;
  trust_vector: TrustVector;
  tee_claims: Record<string, unknown>;
  iat: number;
}

/** Largest claims JSON a certificate may carry. */
export const MAX_CLAIMS_BYTES = 8 * 1024;

/** Known TEE names, as trustee spells them. */
export const TEE_NAMES = ['sample', 'snp', 'tdx', 'sgx', 'az-snp-vtpm', 'az-tdx-vtpm', 'tpm', 'cca', 'csv', 'se', 'hygon-dcu', 'nvidia'] as const;

export function isKnownTee(name: string): boolean {
  return (TEE_NAMES as readonly string[]).includes(name);
}
