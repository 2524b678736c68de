import type { JWK, JWTPayload } from 'jose';
import type { Claims } from '../../domain/claims.js';
import type { ServiceVerifierConfig } from '../../config/verifier-tables.js';
import type { ServiceHttp } from './service-http.js';

/**
 * The interface each external attestation service implements (coco-as, intel-ta, azure-maa). The framework
 * (`service-verifier.ts`) does everything common around it: HTTP with timeout and TLS trust, token signature
 * (JWKS with rotation, `x5c` to trusted certificates), algorithm allow-list, `exp`/`nbf`/`iat` with skew, `iss`/`aud`,
 * the runtime-data binding (nonce and key) and the normalized claims' `v`, `tee` and `verifier`. An adapter only
 * speaks its service's API and reads its token's claims.
 */
export interface ServiceAdapter {
  /** Token algorithms accepted when the config names none (never `none` or HMAC). */
  readonly algorithms: readonly string[];
  /** Where the service publishes its keys under `url` (e.g. `/certs`) when the config has no `jwks`. */
  readonly jwksPath?: string;
  /**
   * Background-check: sends the evidence with the runtime data (to be bound exactly as given) to the service and
   * answers the token text. Throws `bad-evidence-format` for evidence of the wrong shape and `attestation-failed`
   * when the service refuses it (a 4xx); the transport already turned 5xx, unreachable and timeout into 502/504.
   */
  requestToken(service: ServiceConnection, request: TokenRequest): Promise<string>;
  /** Maps a verified token's payload; throws `attestation-failed` when the claims are not the service's shape or not for `tee`. */
  readToken(payload: JWTPayload, tee: string): TokenReading;
  /** The nonce hook: a service nonce the TEE must put in its evidence, returned by `/kbs/v1/challenge` as `verifier_nonce`. */
  fetchNonce?(service: ServiceConnection, tee: string): Promise<unknown>;
}

/** PROTOCOL.md 1.2: the runtime data given to a service, in trustee's field names. */
export interface RuntimeData {
  nonce: string;
  'tee-pubkey': JWK;
}

export interface TokenRequest {
  tee: string;
  /** The TEE's evidence as it was submitted (v1 `evidence`, v0 `primary_evidence`). */
  evidence: unknown;
  runtimeData: RuntimeData;
}

/** One configured service as its adapter sees it. */
export interface ServiceConnection {
  config: ServiceVerifierConfig;
  /** Background-check base URL (`url`), without a trailing slash. */
  url: string;
  http: ServiceHttp;
  /** The contents of `api_key_file`, trimmed, when configured. */
  apiKey?: string;
}

/** The normalized claims an adapter reads from a token; the framework adds `v`, `tee` and `verifier`. */
export type ServiceClaims = Pick<Claims, 'status' | 'tcb_status' | 'measurement' | 'trust_vector' | 'tee_claims'>;

export interface TokenReading {
  claims: ServiceClaims;
  /** The runtime-data claim as the token holds it: the object, or its JSON text. */
  runtimeData: unknown;
  /** The report's init-data field when the token carries it, for the broker's `init_data` check. */
  initData?: Uint8Array;
}
