import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger } from '../../../src/domain/logger.js';
import { initCertificateAuthority, type CaParameters, type CertificateAuthority } from '../../../src/pki/ca-home.js';
import { CaLifecycle } from '../../../src/pki/ca-lifecycle.js';
import { activateIssuer, markIssuer, prepareIssuer } from '../../../src/pki/ca-operations.js';
import { pemBlocks } from '../../../src/pki/pem.js';
import { loadTokenSigningKeys } from '../../../src/pki/token-signing-key.js';
import { makeTempDir, removeDir, TRUST_DOMAIN } from './helpers.js';

const HOUR = 3600;
const parameters: CaParameters = { trustDomain: TRUST_DOMAIN, rootTtlSeconds: 3650 * 86400, issuerTtlSeconds: 60 * HOUR, serverTtlSeconds: 300 * HOUR };
const T0 = new Date('2026-03-01T00:00:00Z');
const at = (hours: number): Date => new Date(T0.getTime() + hours * HOUR * 1000);

describe('pki/ca-lifecycle', function () {
  this.timeout(20_000);
  let dir: string;
  let now: Date;
  let lifecycle: CaLifecycle;
  let tlsChanges: CertificateAuthority[];

  beforeEach(async () => {
    dir = await makeTempDir('ca-lifecycle');
    now = T0;
    const initial = await initCertificateAuthority(dir, parameters, T0);
    lifecycle = new CaLifecycle(initial, { dir, parameters, clock: () => now, log: silentLogger, autoRotate: true, checkIntervalMs: 60_000 });
    tlsChanges = [];
    lifecycle.onTlsChange((ca) => tlsChanges.push(ca));
  });
  afterEach(async () => {
    lifecycle.stop();
    await removeDir(dir);
  });

  const states = (): string[] => lifecycle.status().issuers.map((issuer) => issuer.state).sort();

  it('runs the rotation schedule on each check with the injected clock, and hands each new bundle to the TLS listener', async () => {
    const first = lifecycle.current().active.id;
    now = at(29);
    await lifecycle.check();
    expect(states()).to.deep.equal(['active']);
    expect(tlsChanges).to.have.length(0);

    now = at(30);
    await lifecycle.check();
    expect(states()).to.deep.equal(['active', 'prepared']);
    expect(lifecycle.current().active.id).to.equal(first);
    expect(tlsChanges).to.have.length(1);
    expect(pemBlocks(tlsChanges[0]!.bundlePem)).to.have.length(3);

    now = at(50);
    await lifecycle.check();
    expect(states()).to.deep.equal(['active', 'retired']);
    expect(lifecycle.current().active.id).to.not.equal(first);
    // Same issuers in the bundle, so the TLS context needs no change until the retired one expires.
    expect(tlsChanges).to.have.length(1);

    // At +60 h the first issuer expires and leaves the bundle, and the second one is half way: a third is prepared.
    const firstPem = lifecycle.current().issuers.find((issuer) => issuer.id === first)!.certificate.pem;
    now = at(60);
    await lifecycle.check();
    expect(tlsChanges).to.have.length(2);
    expect(states()).to.deep.equal(['active', 'prepared', 'retired']);
    expect(pemBlocks(tlsChanges[1]!.bundlePem)).to.have.length(3);
    expect(tlsChanges[1]!.bundlePem).to.not.include(firstPem);
  });

  it('trusts an issuer prepared and activated by another process in the TLS context before it issues its first leaf', async () => {
    const trustedWhenIssuing: boolean[] = [];
    // A change listener runs once the new CA is in force, when attestations already get the new issuer's leaves.
    lifecycle.onChange(async (_previous, loaded) => {
      trustedWhenIssuing.push(tlsChanges.at(-1)?.bundlePem.includes(loaded.active.certificate.pem) === true);
    });
    now = at(1);
    const { id } = await prepareIssuer(dir, parameters, now);
    await activateIssuer(dir, undefined, now);
    await lifecycle.reload();
    expect(lifecycle.current().active.id).to.equal(id);
    expect(trustedWhenIssuing).to.deep.equal([true]);
  });

  it('picks up changes another process made to the CA home, without a restart', async () => {
    now = at(1);
    const { id } = await prepareIssuer(dir, parameters, now);
    await markIssuer(dir, id, 'taint', now);
    expect(lifecycle.current().issuers).to.have.length(1);
    await lifecycle.check();
    expect(lifecycle.current().issuers.find((issuer) => issuer.id === id)?.state).to.equal('tainted');
  });

  it('renews the server certificate from the root before it expires and hands it to the TLS listener', async () => {
    const before = lifecycle.current().server.certificatePem;
    now = at(150);
    await lifecycle.check();
    expect(lifecycle.current().server.certificatePem).to.equal(before);
    now = at(201);
    await lifecycle.check();
    const renewed = lifecycle.current().server.certificatePem;
    expect(renewed).to.not.equal(before);
    expect(tlsChanges.at(-1)!.server.certificatePem).to.equal(renewed);
    const certificate = new X509Certificate(renewed);
    expect(certificate.checkIssued(new X509Certificate(lifecycle.current().root.pem))).to.equal(true);
    expect(new Date(certificate.validTo).getTime()).to.equal(at(201 + 300).getTime());
  });

  it('keeps the CA in force when the CA home cannot be loaded', async () => {
    const active = lifecycle.current().active.id;
    await rm(join(dir, 'issuers', active, 'state.json'));
    await lifecycle.check();
    expect(lifecycle.current().active.id).to.equal(active);
    const failure = await lifecycle.reload().then(() => undefined, (error: Error) => error);
    expect(failure?.message).to.match(/exactly one active issuer, found 0/);
    expect(lifecycle.current().active.id).to.equal(active);
  });

  it('applies admin transitions and answers the new status; refusals change nothing', async () => {
    const prepared = await lifecycle.prepare();
    expect(lifecycle.status().issuers.find((issuer) => issuer.id === prepared.id)?.state).to.equal('prepared');
    const activated = await lifecycle.activate();
    expect(activated.id).to.equal(prepared.id);
    expect(lifecycle.current().active.id).to.equal(prepared.id);
    const error = await lifecycle.mark(prepared.id, 'revoke').catch((caught: Error) => caught);
    expect(String(error)).to.match(/cannot revoke issuer .* \(active\)/);
    expect(lifecycle.current().active.id).to.equal(prepared.id);
  });

  it('tells change listeners of every reload that changed issuer states, and rotates the v0 token key on activation', async () => {
    const changes: Array<{ before: string[]; after: string[] }> = [];
    const statesOf = (ca: CertificateAuthority): string[] => ca.issuers.map((issuer) => `${issuer.id}:${issuer.state}`).sort();
    lifecycle.onChange(async (previous, loaded) => { changes.push({ before: statesOf(previous), after: statesOf(loaded) }); });
    const keyBefore = (await loadTokenSigningKeys(dir)).current.kid;

    await lifecycle.reload();
    expect(changes).to.have.length(0);
    const prepared = await lifecycle.prepare();
    expect(changes).to.have.length(1);
    expect(changes[0]!.after).to.include(`${prepared.id}:prepared`);
    expect((await loadTokenSigningKeys(dir)).current.kid).to.equal(keyBefore);

    const first = lifecycle.current().active.id;
    await lifecycle.activate();
    expect(changes).to.have.length(2);
    expect(changes[1]!.after).to.include.members([`${prepared.id}:active`, `${first}:retired`]);
    const rotated = await loadTokenSigningKeys(dir);
    expect(rotated.current.kid).to.not.equal(keyBefore);
    expect(rotated.jwks.keys.map((key) => key.kid)).to.include.members([keyBefore, rotated.current.kid]);
  });
});

