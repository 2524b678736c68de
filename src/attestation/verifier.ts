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
