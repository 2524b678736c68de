/** An in-memory BrokerContext from real parts (CA in a temp dir, fs stores, sample verifier), for protocol tests. */
import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { VerifierRegistry } from '../../../src/attestation/registry.js';
import { sampleVerifier } from '../../../src/attestation/verifiers/sample.js';
import { silentLogger } from '../../../src/domain/logger.js';
import { initCertificateAuthority, type CertificateAuthority } from '../../../src/pki/ca-home.js';
import { CaLifecycle } from '../../../src/pki/ca-lifecycle.js';
import { createCsr } from '../../../src/pki/create-csr.js';
import { noMetrics } from '../../../src/domain/metrics.js';
import { loadDefaultPolicies } from '../../../src/policy/default-policies.js';
import { PolicyService } from '../../../src/policy/policy-service.js';
import type { BrokerContext } from '../../../src/protocol/broker-context.js';
import { CrlPublisher } from '../../../src/protocol/crl-publisher.js';
import { NonceSealer } from '../../../src/protocol/sealed-nonce.js';
import { createChallenge } from '../../../src/protocol/v1/challenge.js';
import { openFsStores } from '../../../src/store/fs/fs-stores.js';
import { ecKey, makeTempDir, removeDir, TRUST_DOMAIN } from '../pki/helpers.js';

const CA_PARAMETERS = { trustDomain: TRUST_DOMAIN, rootTtlSeconds: 3650 * 86400, issuerTtlSeconds: 90 * 86400, serverTtlSeconds: 30 * 86400 };

export interface Broker {
  context: BrokerContext;
  ca: CertificateAuthority;
  dir: string;
  /** Moves the injected clock. */
  setClock(date: Date): void;
  close(): Promise<void>;
}

export function wholeSecondNow(): Date {
  return new Date(Math.floor(Date.now() / 1000) * 1000);
}

export async function makeBroker(options: { sampleEnabled?: boolean; registry?: VerifierRegistry; leafTtlSeconds?: number } = {}): Promise<Broker> {
  const dir = await makeTempDir('broker');
  let now = wholeSecondNow();
  const ca = await initCertificateAuthority(join(dir, 'ca'), CA_PARAMETERS, new Date(now.getTime() - 3600_000));
  const stores = await openFsStores(join(dir, 'data'));
  const policies = await PolicyService.open(stores.policies, await loadDefaultPolicies(), { devMode: true, sampleEnabled: options.sampleEnabled ?? true }, noMetrics, now);
  const context: BrokerContext = {
    trustDomain: TRUST_DOMAIN,
    devMode: true,
    leafTtlSeconds: options.leafTtlSeconds ?? 600,
    nonceTtlSeconds: 300,
    ca: () => ca,
    caLifecycle: new CaLifecycle(ca, {
      dir: join(dir, 'ca'), parameters: CA_PARAMETERS, clock: () => now, log: silentLogger, autoRotate: false, checkIntervalMs: 60_000,
    }),
    verifiers: options.registry ?? new VerifierRegistry().register(sampleVerifier()),
    nonces: new NonceSealer(randomBytes(32)),
    stores,
    crls: new CrlPublisher(() => ca, stores.revocations, () => now, 86400),
    attestationPolicy: policies.attestation,
    resourcePolicy: policies.resource,
    policies,
    metrics: noMetrics,
    clock: () => now,
    log: silentLogger,
  };
  return {
    context, ca, dir,
    setClock: (date) => { now = date; },
    close: async () => {
      await stores.close();
      await removeDir(dir);
    },
  };
}

/** PROTOCOL.md 1.2 computed here, independently of src/attestation/binding.ts. */
export function bindingOf(nonce: string, spki: Buffer): Buffer {
  return createHash('sha512').update(Buffer.concat([Buffer.from('keybroker-v1-bind\u0000', 'ascii'), Buffer.from(nonce, 'ascii'), Buffer.from([0]), spki])).digest();
}

export interface AttestInput {
  nonce: string;
  key: KeyObject;
  spki: Buffer;
  csr: string;
  body: { nonce: string; csr: string; evidence: Record<string, unknown> };
}

/** A challenge for `sample`, a fresh P-256 key and CSR, and sample evidence binding both. */
export function prepareAttest(context: BrokerContext, options: { measurement?: string; verifier?: string; key?: KeyObject } = {}): AttestInput {
  const { nonce } = createChallenge(context, { tee: 'sample', ...(options.verifier ? { verifier: options.verifier } : {}) });
  const key = options.key ?? ecKey();
  const { pem, spki } = createCsr(key);
  const evidence: Record<string, unknown> = { svn: '1', report_data: bindingOf(nonce, spki).toString('base64') };
  if (options.measurement !== undefined) evidence.measurement = options.measurement;
  return { nonce, key, spki, csr: pem, body: { nonce, csr: pem, evidence } };
}
