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

/** A session of the trustee protocol (PROTOCOL.md 2), from /kbs/v0/auth until it expires. */
export interface V0Session {
  tee: string;
  /** The nonce answered by /auth (standard base64 of 32 random bytes). */
  nonce: string;
  hashAlgorithm: 'sha256' | 'sha384' | 'sha512';
  expiresAt: Date;
  /** The token issued by /attest; absent until the session is attested. */
  token?: string;
}

/**
 * Sessions of the trustee protocol, shared by every replica. Keys are digests of the cookie value, so the store
 * never holds a usable cookie. Expired sessions are never returned and may be dropped at any time.
 */
export interface V0SessionStore {
  create(key: string, session: V0Session): Promise<void>;
  /** The session, or undefined when it is unknown or expired at `now`. */
  get(key: string, now: Date): Promise<V0Session | undefined>;
  /**
   * Records the token of an attested session. The first token wins: the answer is the token in force
   * afterwards (which is `token` unless another request attested first), or undefined when the session is gone.
   */
  attest(key: string, token: string): Promise<string | undefined>;
}

export interface Stores {
  resources: ResourceStore;
  nonces: NonceLedger;
  v0Sessions: V0SessionStore;
  /** True when the store can serve requests (for /readyz). */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}
