/** Store ports: what the broker needs from persistence. Adapters live in store/fs (embedded) and store/postgres (shared by replicas). */
import type { AuditRecord } from '../domain/audit-chain.js';
import type { IssuerRegistry } from '../domain/issuer-registry.js';
import type { ChangeFeed } from './change-feed.js';

export type { AuditRecord };

import type { RevocationReason } from '../domain/revocation.js';

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

/** One certificate issued from the attest path. Serials are lowercase hex without leading zeros; times RFC 3339. */
export interface IssuedCertificateRecord {
  serial: string;
  spiffe_id: string;
  /** The issuing CA's id (`ca/issuers/<id>`). */
  issuer_id: string;
  not_before: string;
  not_after: string;
  tee: string;
  verifier: string;
}

export interface CertificateLog {
  /**
   * Records an issued certificate; durable before it resolves, because a certificate that is not in the log
   * cannot be revoked by serial. Recording a serial that is already there keeps the first record.
   */
  record(certificate: IssuedCertificateRecord): Promise<void>;
  get(serial: string): Promise<IssuedCertificateRecord | undefined>;
  /** Newest first (by `not_before`), at most `limit`; only `issuerId`'s certificates when given. */
  list(query: { issuerId?: string; limit: number }): Promise<IssuedCertificateRecord[]>;
}

export interface RevocationRecord {
  serial: string;
  issuer_id: string;
  /** RFC 3339 */
  revoked_at: string;
  reason: RevocationReason;
  /** Who revoked it, e.g. the admin's name. */
  revoked_by: string;
  /** The revoked certificate's notAfter (RFC 3339): CRLs list the entry until then (RFC 5280 section 3.3). */
  not_after: string;
}

export interface RevocationList {
  /**
   * Revokes a serial; durable before it resolves. A serial that is already revoked stays as it was: the first
   * record is returned with `created: false` (revocation is idempotent).
   */
  revoke(revocation: RevocationRecord): Promise<{ created: boolean; revocation: RevocationRecord }>;
  /** Asked on every authenticated request, so adapters answer it cheaply; never cached by callers. */
  isRevoked(serial: string): Promise<boolean>;
  /** Oldest first; only `issuerId`'s revocations when given (one CRL per issuer). */
  list(issuerId?: string): Promise<RevocationRecord[]>;
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

/** Public facts about a key a replica holds (never the key itself), so replicas that hold different keys still agree. */
export interface PublishedKey {
  /** What the key is for, e.g. `v0-token` (the trustee protocol's token signing key). */
  purpose: string;
  kid: string;
  /** The public key as a JWK, with its `kid`. */
  publicJwk: Record<string, unknown>;
  /** RFC 3339: when a replica first published it. */
  publishedAt: string;
}

export interface KeyDirectory {
  /** Publishes keys; a key already published keeps its first record. */
  publish(keys: readonly Omit<PublishedKey, 'publishedAt'>[], at: Date): Promise<void>;
  /** The `limit` most recently published keys of `purpose`, newest first. */
  recent(purpose: string, limit: number): Promise<PublishedKey[]>;
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
  revocations: RevocationList;
  certificates: CertificateLog;
  /** Changes made by other processes sharing the store (PostgreSQL); absent where one process owns it. */
  changes?: ChangeFeed;
  /** Issuing-CA states shared by replicas (PostgreSQL); absent where the CA home's state.json files hold them. */
  issuers?: IssuerRegistry;
  /** Public keys published by every replica (PostgreSQL); absent where one process holds all keys. */
  keyDirectory?: KeyDirectory;
}
