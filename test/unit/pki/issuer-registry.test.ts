import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initCertificateAuthority, loadCertificateAuthority, seedIssuerRegistry, type CaParameters } from '../../../src/pki/ca-home.js';
import { activateIssuer, markIssuer, prepareIssuer } from '../../../src/pki/ca-operations.js';
import { fileIssuerRegistry } from '../../../src/pki/file-issuer-registry.js';
import { makeTempDir, removeDir, TRUST_DOMAIN } from './helpers.js';

const parameters: CaParameters = { trustDomain: TRUST_DOMAIN, rootTtlSeconds: 3650 * 86400, issuerTtlSeconds: 60 * 3600, serverTtlSeconds: 300 * 3600 };
const T0 = new Date('2026-03-01T00:00:00Z');

/** A CA home whose issuer states live in another registry (the role PostgreSQL plays for replicas). */
describe('pki: a CA home with a separate issuer registry', function () {
  this.timeout(20_000);
  let home: string;
  let elsewhere: string;

  beforeEach(async () => {
    home = await makeTempDir('registry-home');
    elsewhere = await makeTempDir('registry-shared');
  });
  afterEach(async () => {
    await removeDir(home);
    await removeDir(elsewhere);
  });

  const stateFile = (id: string) => readFile(join(home, 'issuers', id, 'state.json'), 'utf8').then((text) => (JSON.parse(text) as { state: string }).state);

  it('is seeded once from the home\'s state.json files, and from then on alone decides', async () => {
    const ca = await initCertificateAuthority(home, parameters, T0);
    const shared = fileIssuerRegistry(elsewhere);
    expect(await seedIssuerRegistry(home, shared, T0)).to.deep.equal([ca.active.id]);
    expect(await seedIssuerRegistry(home, shared, T0)).to.deep.equal([]);

    const withShared = { ...parameters, issuers: shared };
    const { id } = await prepareIssuer(home, withShared, T0);
    await activateIssuer(home, id, T0, shared);
    await markIssuer(home, ca.active.id, 'taint', T0, shared);
    const loaded = await loadCertificateAuthority(home, withShared, T0);
    expect(loaded.active.id).to.equal(id);
    expect(loaded.issuers.map((issuer) => `${issuer.id}:${issuer.state}`).sort()).to.deep.equal([`${ca.active.id}:tainted`, `${id}:active`].sort());
    // The home keeps the new issuer's key and certificate, but no state of its own: the registry holds it.
    expect(loaded.active.signer).to.not.equal(undefined);
    expect(await stateFile(ca.active.id)).to.equal('active');
    expect(await stateFile(id).catch(() => 'none')).to.equal('none');
    expect((await shared.list()).map((entry) => entry.certificatePem)).to.include(loaded.active.certificate.pem);
  });

  it('refuses to initialise a second CA into a registry that already holds one', async () => {
    const first = await initCertificateAuthority(home, parameters, T0);
    await seedIssuerRegistry(home, fileIssuerRegistry(elsewhere), T0);
    const other = await makeTempDir('registry-other');
    try {
      const error = await initCertificateAuthority(other, { ...parameters, issuers: fileIssuerRegistry(elsewhere) }, T0).catch((caught: Error) => caught);
      expect(String(error)).to.match(/already holds the issuers of a CA/);
      expect((await fileIssuerRegistry(elsewhere).list()).map((entry) => entry.id)).to.deep.equal([first.active.id]);
    } finally {
      await removeDir(other);
    }
  });
});
