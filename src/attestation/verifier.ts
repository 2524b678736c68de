import type { JWK } from 'jose';
import type { Claims } from '../domain/claims.js';

/** What a verifier hands back: normalized claims (without `iat`, set at issuance) and the report data to check the binding against. */
export interface VerifiedEvidence {
  claims: Omit<Claims, 'iat'>;
  /** The user data field of the hardware report (64 bytes, or 32 for TEEs with a 32-byte field). */
  reportData: Uint8Array;
  /**
   * The report's init-data field when the TEE has one (SNP HOST_DATA, 32 bytes; TDX MRCONFIGID, 48 bytes): the
   * broker checks the request's `init_data` digest against it (PROTOCOL.md 1.3).
   */
  initData?: Uint8Array;
}

/** The verifier port: evidence in, normalized claims out. Pure of the broker's protocol: nonce and binding are checked by the caller. */
export interface Verifier {
  /** The name clients pick in `/kbs/v1/challenge` and certificates carry as `claims.verifier`. */
  readonly name: string;
  /** TEEs this verifier understands. */
  readonly tees: readonly string[];
  /** Throws KbsError `bad-evidence-format` for a malformed shape, `attestation-failed` when it does not verify. */
  verify(tee: string, evidence: unknown): Promise<VerifiedEvidence>;
}

/**
 * What the broker binds when an external service dictates the report data (PROTOCOL.md 1.2, last paragraph): the
 * service gets `{"nonce": nonce, "tee-pubkey": publicKey}` as runtime data, and its token must carry exactly that.
 */
export interface BindingRequest {
  /** v1: the sealed challenge nonce; v0: the session nonce. */
  nonce: string;
  /** The CSR's public key (v1) or the `tee-pubkey` (v0), as a public JWK. */
  publicKey: JWK;
}

/** What the TEE submitted: evidence for the service to appraise (background-check) or a token it got itself (passport). */
export type Submission = { mode: 'background-check'; evidence: unknown } | { mode: 'passport'; token: string };

export interface AppraisalRequest {
  tee: string;
  submission: Submission;
  binding: BindingRequest;
}

/** A service's verdict after the token's signature, lifetime, nonce and key were checked: the binding holds. */
export interface BoundEvidence {
  claims: Omit<Claims, 'iat'>;
  bindingChecked: true;
  /** The report's init-data field when the token reports one (same meaning as in VerifiedEvidence). */
  initData?: Uint8Array;
}

/**
 * The port of an external attestation service (`src/attestation/services/`). Throws KbsError `attestation-failed`
 * (token does not verify, wrong nonce), `binding-mismatch` (a key other than the requested one),
 * `verifier-unavailable` (502) or `verifier-timeout` (504).
 */
export interface ServiceVerifier {
  readonly name: string;
  readonly tees: readonly string[];
  appraise(request: AppraisalRequest): Promise<BoundEvidence>;
  /** A nonce of the service's own that the TEE must put in its evidence (Intel Trust Authority), returned by the challenge as `verifier_nonce`. */
  verifierNonce?(tee: string): Promise<unknown>;
}

/** What the registry holds: an in-process verifier or an external service. */
export type AnyVerifier = Verifier | ServiceVerifier;

export function isServiceVerifier(verifier: AnyVerifier): verifier is ServiceVerifier {
  return 'appraise' in verifier;
}
