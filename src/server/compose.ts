import { join } from 'node:path';
import { VerifierRegistry } from '../attestation/registry.js';
import { registerVerifiers } from '../attestation/services/register-verifiers.js';
import { createBuiltinVerifier } from '../attestation/verifiers/builtin-verifiers.js';
import type { Config } from '../config/config.js';
import type { Logger } from '../domain/logger.js';
import { caExists, initCertificateAuthority, loadCertificateAuthority, type CaParameters, type CertificateAuthority } from '../pki/ca-home.js';
import { CaLifecycle } from '../pki/ca-lifecycle.js';
import { loadDefaultPolicies } from '../policy/default-policies.js';
import { PolicyService } from '../policy/policy-service.js';
import type { BrokerContext } from '../protocol/broker-context.js';
import { AdminTokenVerifier } from '../protocol/admin-bearer.js';
import { SealedBox } from '../protocol/sealed-box.js';
import { CrlPublisher } from '../protocol/crl-publisher.js';
import { NonceSealer } from '../protocol/sealed-nonce.js';
import { loadTokenSigningKeys, openTokenSigningKeys } from '../pki/token-signing-key.js';
import { loadIdentityProviders } from './identity-providers.js';
import { openStores } from '../store/open-stores.js';
import { issuerKeyStorage } from './issuer-key-storage.js';
import { PrometheusMetrics } from './prometheus-metrics.js';
import { recordCaEvent } from '../protocol/audit-trail.js';
import { loadOrCreateSecretKey } from './secret-key-file.js';

export function caParameters(config: Config): CaParameters {
  return {
    trustDomain: config.ca.trustDomain,
    rootTtlSeconds: config.ca.rootTtlSeconds,
    issuerTtlSeconds: config.ca.issuerTtlSeconds,
    serverTtlSeconds: config.ca.serverTtlSeconds,
    keys: issuerKeyStorage(config),
  };
}

/** Loads the CA; in development mode a missing CA is created. */
export async function openCertificateAuthority(config: Config, log: Logger): Promise<{ ca: CertificateAuthority; created: boolean }> {
  if (!(await caExists(config.ca.dir))) {
    if (!config.dev) throw new Error(`no CA in ${config.ca.dir}: run "keybroker ca init" first, or start with --dev for a development CA`);
    log.warn('creating a development CA', { dir: config.ca.dir });
    return { ca: await initCertificateAuthority(config.ca.dir, caParameters(config)), created: true };
  }
  return { ca: await loadCertificateAuthority(config.ca.dir, caParameters(config)), created: false };
}

export interface Broker {
  context: BrokerContext;
  /** Re-reads the CA home (after `keybroker ca ...` changed it). */
  reloadCa(): Promise<CertificateAuthority>;
  close(): Promise<void>;
}

/** One audit record per issuer that appeared or changed state, whoever made the change (server, CLI, script). */
async function recordIssuerChanges(context: BrokerContext, previous: CertificateAuthority, loaded: CertificateAuthority): Promise<void> {
  const before = new Map(previous.issuers.map((issuer) => [issuer.id, issuer.state]));
  for (const issuer of loaded.issuers) {
    const from = before.get(issuer.id);
    if (from !== issuer.state) await recordCaEvent(context, `issuer.${issuer.state}`, issuer.id, from ? { from } : undefined);
  }
}

/** The composition root: picks adapters from the config and wires the broker. */
export async function composeBroker(config: Config, log: Logger, clock: () => Date = () => new Date()): Promise<Broker & { caCreated: boolean }> {
  const stores = await openStores(config.store, log);
  const { ca: initialCa, created } = await openCertificateAuthority(config, log);
  const lifecycle = new CaLifecycle(initialCa, {
    dir: config.ca.dir, parameters: caParameters(config), clock, log, autoRotate: config.ca.autoRotate, checkIntervalMs: config.ca.checkIntervalMs,
  });
  const ca = (): CertificateAuthority => lifecycle.current();
  const verifiers = new VerifierRegistry();
  const builtin = await createBuiltinVerifier(config.attestation, clock);
  const services = await registerVerifiers(verifiers, config.verifiers, builtin, clock);
  const nonceKey = await loadOrCreateSecretKey(join(config.store.dataDir, 'keys', 'nonce-seal.key'));
  const metrics = new PrometheusMetrics(() => ca().issuers.map((issuer) => ({ id: issuer.id, state: issuer.state, notAfter: issuer.certificate.notAfter })));
  const policies = await PolicyService.open(stores.policies, await loadDefaultPolicies(), { devMode: config.dev, sampleEnabled: config.attestation.enableSample }, metrics, clock());
  // Replicas share policies through the store: each one puts in force a version another one stored when notified.
  const stopPolicyRefresh = stores.changes ? policies.follow(stores.changes, log) : () => undefined;
  let tokenKeys = await openTokenSigningKeys(config.ca.dir, config.dev);
  const context: BrokerContext = {
    trustDomain: config.ca.trustDomain,
    devMode: config.dev,
    leafTtlSeconds: config.ca.leafTtlSeconds,
    nonceTtlSeconds: config.attestation.nonceTtlSeconds,
    ca,
    caLifecycle: lifecycle,
    verifiers,
    nonces: new NonceSealer(nonceKey),
    stores,
    crls: new CrlPublisher(ca, stores.revocations, clock, config.ca.crlValiditySeconds),
    attestationPolicy: policies.attestation,
    resourcePolicy: policies.resource,
    policies,
    metrics,
    clock,
    log,
    adminTokens: new AdminTokenVerifier(await loadIdentityProviders(config.admin.identityProviders), config.admin.role),
    v0: {
      sessionTtlSeconds: config.v0.sessionTtlSeconds,
      allowRsa1_5: config.v0.allowRsa1_5,
      sessionBox: new SealedBox(nonceKey, 'keybroker-v0-session-v1'),
      tokenKeys: () => tokenKeys,
    },
  };
  lifecycle.onChange(async (previous, loaded) => {
    tokenKeys = await loadTokenSigningKeys(config.ca.dir);
    await recordIssuerChanges(context, previous, loaded);
  });
  return {
    context,
    caCreated: created,
    async reloadCa() {
      const reloaded = await lifecycle.reload();
      tokenKeys = await loadTokenSigningKeys(config.ca.dir);
      return reloaded;
    },
    close: () => {
      lifecycle.stop();
      stopPolicyRefresh();
      return Promise.all(services.map((service) => service.close())).then(() => stores.close());
    },
  };
}
