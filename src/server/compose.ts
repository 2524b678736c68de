import { join } from 'node:path';
import { VerifierRegistry } from '../attestation/registry.js';
import { registerVerifiers } from '../attestation/services/register-verifiers.js';
import { createBuiltinVerifier } from '../attestation/verifiers/builtin-verifiers.js';
import type { Config } from '../config/config.js';
import type { Logger } from '../domain/logger.js';
import type { IssuerRegistry } from '../domain/issuer-registry.js';
import {
  caExists, initCertificateAuthority, loadCertificateAuthority, seedIssuerRegistry, type CaParameters, type CertificateAuthority,
} from '../pki/ca-home.js';
import { CaLifecycle } from '../pki/ca-lifecycle.js';
import { loadDefaultPolicies } from '../policy/default-policies.js';
import { PolicyService } from '../policy/policy-service.js';
import type { BrokerContext } from '../protocol/broker-context.js';
import { AdminTokenVerifier } from '../protocol/admin-bearer.js';
import { SealedBox } from '../protocol/sealed-box.js';
import { CrlPublisher } from '../protocol/crl-publisher.js';
import { NonceSealer } from '../protocol/sealed-nonce.js';
import { loadTokenSigningKeys, openTokenSigningKeys } from '../pki/token-signing-key.js';
import { TokenKeyRing } from '../protocol/v0/token-key-ring.js';
import { loadIdentityProviders } from './identity-providers.js';
import { CA_TOPIC } from '../store/change-feed.js';
import { openStores } from '../store/open-stores.js';
import { openPgIssuerRegistry } from '../store/postgres/pg-stores.js';
import { issuerKeyStorage } from './issuer-key-storage.js';
import { PrometheusMetrics } from './prometheus-metrics.js';
import { recordIssuerStateChanges } from '../protocol/audit-trail.js';
import { auditedIssuerRegistry } from '../protocol/audited-issuer-registry.js';
import { loadOrCreateSecretKey } from './secret-key-file.js';
import { messageOf } from '../domain/errors.js';

/** `issuers`: the shared store's registry; the CA home's state.json files when absent. */
export function caParameters(config: Config, issuers?: IssuerRegistry): CaParameters {
  return {
    trustDomain: config.ca.trustDomain,
    rootTtlSeconds: config.ca.rootTtlSeconds,
    issuerTtlSeconds: config.ca.issuerTtlSeconds,
    serverTtlSeconds: config.ca.serverTtlSeconds,
    keys: issuerKeyStorage(config),
    ...(issuers ? { issuers } : {}),
  };
}

/** A shared registry that records nothing yet takes the issuer states of the CA home. */
async function seedSharedRegistry(config: Config, issuers: IssuerRegistry, log: Logger): Promise<void> {
  const copied = await seedIssuerRegistry(config.ca.dir, issuers, new Date());
  if (copied.length > 0) log.info('issuer states copied from the CA home into the shared store', { issuers: copied });
}

/**
 * Runs `action` with the CA parameters of `config` (the `keybroker ca` commands): with a PostgreSQL `[store]`, the
 * issuer registry in the database is open meanwhile.
 */
export async function withCaParameters<T>(config: Config, log: Logger, action: (parameters: CaParameters) => Promise<T>): Promise<T> {
  if (config.store.backend !== 'postgres') return action(caParameters(config));
  const { registry: shared, audit, close } = await openPgIssuerRegistry({ url: config.store.url!, log });
  try {
    const registry = auditedIssuerRegistry(shared, { stores: { audit }, clock: () => new Date(), log });
    await seedSharedRegistry(config, registry, log);
    return await action(caParameters(config, registry));
  } finally {
    await close();
  }
}

/** Loads the CA; in development mode a missing CA is created. */
export async function openCertificateAuthority(config: Config, log: Logger, parameters: CaParameters): Promise<{ ca: CertificateAuthority; created: boolean }> {
  if (!(await caExists(config.ca.dir))) {
    if (!config.dev) throw new Error(`no CA in ${config.ca.dir}: run "keybroker ca init" first, or start with --dev for a development CA`);
    log.warn('creating a development CA', { dir: config.ca.dir });
    return { ca: await initCertificateAuthority(config.ca.dir, parameters), created: true };
  }
  if (parameters.issuers) await seedSharedRegistry(config, parameters.issuers, log);
  return { ca: await loadCertificateAuthority(config.ca.dir, parameters), created: false };
}

export interface Broker {
  context: BrokerContext;
  /** Re-reads the CA home (after `keybroker ca ...` changed it). */
  reloadCa(): Promise<CertificateAuthority>;
  close(): Promise<void>;
}

/** Re-reads the CA (SIGHUP, a change another process recorded); a failure is logged and the CA in force stays. */
export async function reloadOrKeep(reload: () => Promise<unknown>, log: Logger): Promise<void> {
  await reload().catch((error: unknown) => {
    log.error('CA reload failed; keeping the CA in force', { error: messageOf(error) });
  });
}

/** The composition root: picks adapters from the config and wires the broker. */
export async function composeBroker(config: Config, log: Logger, clock: () => Date = () => new Date()): Promise<Broker & { caCreated: boolean }> {
  const stores = await openStores(config.store, log);
  const parameters = caParameters(config, stores.issuers && auditedIssuerRegistry(stores.issuers, { stores, clock, log }));
  const { ca: initialCa, created } = await openCertificateAuthority(config, log, parameters);
  const lifecycle = new CaLifecycle(initialCa, {
    dir: config.ca.dir, parameters, clock, log, autoRotate: config.ca.autoRotate, checkIntervalMs: config.ca.checkIntervalMs,
  });
  // A transition recorded by another replica or by `keybroker ca` reaches this one through the store's change feed.
  const followCa = (): void => void reloadOrKeep(() => lifecycle.reload(), log);
  const stopCaFollow = stores.changes?.subscribe(CA_TOPIC, { changed: followCa, resync: followCa }) ?? (() => undefined);
  const ca = (): CertificateAuthority => lifecycle.current();
  const verifiers = new VerifierRegistry();
  const builtin = await createBuiltinVerifier(config.attestation, clock);
  const services = await registerVerifiers(verifiers, config.verifiers, builtin, clock);
  const nonceKey = await loadOrCreateSecretKey(join(config.store.dataDir, 'keys', 'nonce-seal.key'));
  const metrics = new PrometheusMetrics(() => ca().issuers.map((issuer) => ({ id: issuer.id, state: issuer.state, notAfter: issuer.certificate.notAfter })));
  const policies = await PolicyService.open(stores.policies, await loadDefaultPolicies(), { devMode: config.dev, sampleEnabled: config.attestation.enableSample }, metrics, clock());
  // Replicas share policies through the store: each one puts in force a version another one stored when notified.
  const stopPolicyRefresh = stores.changes ? policies.follow(stores.changes, log) : () => undefined;
  const tokenKeys = await TokenKeyRing.open(await openTokenSigningKeys(config.ca.dir, config.dev), stores.keyDirectory, clock());
  const stopTokenKeyFollow = stores.changes ? tokenKeys.follow(stores.changes, log) : () => undefined;
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
      tokenKeys: () => tokenKeys.current(),
    },
  };
  lifecycle.onChange(async (previous, loaded) => {
    await tokenKeys.update(await loadTokenSigningKeys(config.ca.dir), clock());
    // The CA home's own states are audited here, whoever changed them (server, CLI, script): only the server
    // writes the embedded audit log. A shared registry is audited by the process that records each change.
    if (!stores.issuers) await recordIssuerStateChanges(context, previous.issuers, loaded.issuers);
  });
  return {
    context,
    caCreated: created,
    async reloadCa() {
      const reloaded = await lifecycle.reload();
      await tokenKeys.update(await loadTokenSigningKeys(config.ca.dir), clock());
      return reloaded;
    },
    close: () => {
      lifecycle.stop();
      stopCaFollow();
      stopTokenKeyFollow();
      stopPolicyRefresh();
      return Promise.all(services.map((service) => service.close())).then(() => stores.close());
    },
  };
}
