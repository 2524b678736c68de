/**
 * Where the issuing CAs' states are recorded (DESIGN.md, "The CA"): `ca/issuers/<id>/state.json` in the CA home
 * (one broker), or the shared store (several replicas), so a transition made anywhere is in force everywhere.
 * Issuer keys are not here: they stay in the key storage (files or PKCS#11).
 */
export type IssuerState = 'prepared' | 'active' | 'retired' | 'tainted' | 'revoked';

export const ISSUER_STATES: readonly IssuerState[] = ['prepared', 'active', 'retired', 'tainted', 'revoked'];

export interface IssuerEntry {
  id: string;
  state: IssuerState;
  /** The issuer's certificate (PEM); fixed when the issuer is first recorded. */
  certificatePem: string;
  /** RFC 3339: when the state last changed. */
  updatedAt: string;
}

export interface IssuerRegistry {
  /** Every recorded issuer, sorted by id. */
  list(): Promise<IssuerEntry[]>;
  /**
   * Records issuers in the order given: a new id with its certificate, a known one's new state (its certificate
   * never changes). All or nothing where the backend allows; in order everywhere, so activation (successor
   * first, then predecessor) never leaves a reader without an active issuer.
   */
  record(entries: readonly { id: string; state: IssuerState; certificatePem: string }[], at: Date): Promise<void>;
  /** Runs a read-check-write step that no other writer of this registry (another process or replica) interleaves with. */
  exclusive<T>(step: () => Promise<T>): Promise<T>;
}
