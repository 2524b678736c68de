/** Store ports: what the broker needs from persistence. Adapters live in store/fs (embedded) and later store/postgres. */
import type { AuditRecord } from '../domain/audit-chain.js';
import type { ChangeFeed } from './change-feed.js';

export type { AuditRecord };

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

/** One stored version of a policy (PROTOCOL.md 1.8). */
export interface PolicyVersion {
  /** 1, 2, 3, ... per kind; 0 is reserved for the shipped default, which is never stored. */
  version: number;
  /** The policy document as JSON text, exactly as it is in force. */
  text: string;
  /** Who set it: the admin identity's name. */
  author: string;
  /** RFC 3339 */
  created_at: string;
}

/**
 * Versioned policies, one history per kind (`attestation`, `resource`). Versions are immutable once stored;
 * a rollback stores an old text again as a new version.
 */
export interface PolicyStore {
  /** The newest version, or undefined when none was stored yet (the default is in force). */
  latest(kind: string): Promise<PolicyVersion | undefined>;
  /** One version, or undefined when there is no such version. */
  get(kind: string, version: number): Promise<PolicyVersion | undefined>;
  /**
   * Stores `text` as version latest + 1 and returns it, durably before resolving. Two concurrent appends
   * (also from two replicas) never get the same number: one of them gets the next one.
   */
  append(kind: string, text: string, author: string, at: Date): Promise<PolicyVersion>;
}

/** Append-only, hash-chained audit log. */
export interface AuditLog {
  /** Chains `event` after the last record and resolves once the record is durable (fsync / commit). */
  append(event: Record<string, unknown>, at: Date): Promise<AuditRecord>;
}

/** What every backend adapter provides (contract: test/contract/store-contract.ts). */
export interface CoreStores {
  resources: ResourceStore;
  nonces: NonceLedger;
  v0Sessions: V0SessionStore;
  /** True when the store can serve requests (for /readyz). */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

/** Everything the broker stores. */
export interface Stores extends CoreStores {
  policies: PolicyStore;
  audit: AuditLog;
  /** Changes made by other processes sharing the store (PostgreSQL); absent where one process owns it. */
  changes?: ChangeFeed;
}
