/** Store ports: what the broker needs from persistence. Adapters live in store/fs (embedded) and later store/postgres. */

export interface ResourceMeta {
  /** `repository/type/tag` */
  path: string;
  size: number;
  /** Starts at 1, grows by one on every replacement. */
  version: number;
  /** RFC 3339 */
  updated_at: string;
}

export interface PutResult {
  created: boolean;
  meta: ResourceMeta;
}

export interface ResourceStore {
  get(path: string): Promise<Uint8Array | undefined>;
  /** Atomic: a reader sees the old value or the new one, never a mix; a crash leaves no partial file. */
  put(path: string, value: Uint8Array): Promise<PutResult>;
  /** True when something was deleted. */
  delete(path: string): Promise<boolean>;
  /** Metadata only, never values; sorted by path. `prefix` matches the start of `path`. */
  list(prefix?: string): Promise<ResourceMeta[]>;
}

export interface NonceLedger {
  /**
   * Marks a nonce id used. True the first time, false when it was already used. Entries are kept until
   * `expiresAt` (after which the sealed nonce is refused anyway) and survive a restart of the process.
   */
  consume(nonceId: string, expiresAt: Date): Promise<boolean>;
  /** True when the nonce id was already consumed (a cheap early check; `consume` still decides). */
  isUsed(nonceId: string): Promise<boolean>;
}

/**
 * Attested sessions of the trustee protocol (PROTOCOL.md 2), shared by every replica. The session itself travels
 * sealed in its cookie; only its token is stored, once the TEE has attested, under the session's random id.
 */
export interface V0SessionStore {
  /**
   * Records the token of an attested session, kept until `expiresAt`. The first token wins: the answer is the
   * token in force afterwards (`token` unless another request attested the session first).
   */
  attest(sessionId: string, token: string, expiresAt: Date): Promise<string>;
  /** The token of an attested session, or undefined when it has none or it expired at `now`. */
  token(sessionId: string, now: Date): Promise<string | undefined>;
}

export interface Stores {
  resources: ResourceStore;
  nonces: NonceLedger;
  v0Sessions: V0SessionStore;
  /** True when the store can serve requests (for /readyz). */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}
