import type { VerifierRegistry } from '../attestation/registry.js';
import type { Logger } from '../domain/logger.js';
import type { BrokerMetrics } from '../domain/metrics.js';
import type { CertificateAuthority } from '../pki/ca-home.js';
import type { CaLifecycle } from '../pki/ca-lifecycle.js';
import type { AttestationPolicy, ResourcePolicy } from '../policy/policy.js';
import type { PolicyService } from '../policy/policy-service.js';
import type { Stores } from '../store/ports.js';
import type { AdminTokenVerifier } from './admin-bearer.js';
import type { CrlPublisher } from './crl-publisher.js';
import type { NonceSealer } from './sealed-nonce.js';
import type { V0Services } from './v0/v0-services.js';

/** Everything the protocol handlers need, assembled once by the composition root. */
export interface BrokerContext {
  trustDomain: string;
  devMode: boolean;
  leafTtlSeconds: number;
  nonceTtlSeconds: number;
  /** The CA as currently loaded; a function so a reload is seen by the next request. */
  ca(): CertificateAuthority;
  /** Issuer states and transitions of the running server (admin API). */
  caLifecycle: CaLifecycle;
  verifiers: VerifierRegistry;
  nonces: NonceSealer;
  stores: Stores;
  /** The current CRL of each issuing CA. */
  crls: CrlPublisher;
  attestationPolicy: AttestationPolicy;
  resourcePolicy: ResourcePolicy;
  /** The versioned policies behind `attestationPolicy` and `resourcePolicy` (admin API). */
  policies: PolicyService;
  metrics: BrokerMetrics;
  clock(): Date;
  log: Logger;
  /** Admin bearer tokens; absent: a bearer token is 401 `admin-auth-required`. */
  adminTokens?: AdminTokenVerifier;
  /** The trustee protocol; absent: no /kbs/v0 routes. */
  v0?: V0Services;
}
