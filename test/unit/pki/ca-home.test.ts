import { expect } from 'chai';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  caExists, createIssuer, initCertificateAuthority, loadCertificateAuthority, trustBundle, type CaParameters, type IssuerRecord,
} from '../../../src/pki/ca-home.js';
import { issueClientCertificate } from '../../../src/pki/certificate-profiles.js';
import { pemBlocks } from '../../../src/pki/pem.js';
import { signerFromPem } from '../../../src/pki/signer.js';
import { ecKey, makeIssuer, makeRoot, makeTempDir, openssl, removeDir, spkiOf, thrownBy, TRUST_DOMAIN, writeTemp } from './helpers.js';

const DAY = 86400;
const parameters: CaParameters = { trustDomain: TRUST_DOMAIN, rootTtlSeconds: 3650 * DAY, issuerTtlSeconds: 90 * DAY, serverTtlSeconds: 30 * DAY };

const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

function wholeSecond(date = new Date()): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

async function setState(dir: string, id: string, state: string): Promise<void> {
  await writeFile(join(dir, 'issuers', id, 'state.json'), JSON.stringify({ id, state, updated_at: new Date().toISOString() }));
}

describe('pki/ca-home', function () {
  this.timeout(20_000);
  let dir: string;

  beforeEach(async () => {
    dir = await makeTempDir('ca-home');
  });

  afterEach(async () => {
    await removeDir(dir);
  });

  describe('initCertificateAuthority', () => {
    it('writes root, one active issuer, the server certificate and the bundle, keys with mode 0600', async () => {
      const now = wholeSecond();
      expect(await caExists(dir)).to.equal(false);
      const ca = await initCertificateAuthority(dir, parameters, now);
      expect(await caExists(dir)).to.equal(true);

      const issuerIds = await readdir(join(dir, 'issuers'));
      expect(issuerIds).to.have.length(1);
      const id = issuerIds[0]!;
      expect(id).to.match(/^\d{8}-[0-9a-f]{8}$/);
      expect(id.slice(0, 8)).to.equal(now.toISOString().slice(0, 10).replace(/-/g, ''));
      expect(ca.active.id).to.equal(id);

      for (const key of ['root/key.pem', `issuers/${id}/key.pem`, 'server/key.pem']) {
        expect(await modeOf(join(dir, key)), key).to.equal(0o600);
      }
      for (const sub of ['root', `issuers/${id}`, 'server']) {
        expect(await modeOf(join(dir, sub)), sub).to.equal(0o700);
      }
      for (const file of ['root/cert.pem', `issuers/${id}/cert.pem`, `issuers/${id}/state.json`, 'server/cert.pem', 'bundle.pem']) {
        expect((await stat(join(dir, file))).isFile(), file).to.equal(true);
        expect((await modeOf(join(dir, file))) & 0o077 & ~0o044, `${file} writable by others`).to.equal(0);
      }
      const state = JSON.parse(await readFile(join(dir, 'issuers', id, 'state.json'), 'utf8')) as { id: string; state: string };
      expect(state.id).to.equal(id);
      expect(state.state).to.equal('active');
    });

    it('stores keys that belong to their certificates', async () => {
      const ca = await initCertificateAuthority(dir, parameters, wholeSecond());
      const pairs: [string, string][] = [['root/key.pem', 'root/cert.pem'], [`issuers/${ca.active.id}/key.pem`, `issuers/${ca.active.id}/cert.pem`], ['server/key.pem', 'server/cert.pem']];
      for (const [keyFile, certFile] of pairs) {
        const key = createPrivateKey(await readFile(join(dir, keyFile), 'utf8'));
        const certificate = new X509Certificate(await readFile(join(dir, certFile), 'utf8'));
        expect(certificate.checkPrivateKey(key), keyFile).to.equal(true);
      }
      expect(ca.active.signer.publicKeySpki.equals(ca.active.certificate.spki)).to.equal(true);
    });

    it('writes a bundle of the root followed by the active issuer', async () => {
      const ca = await initCertificateAuthority(dir, parameters, wholeSecond());
      const bundle = await readFile(join(dir, 'bundle.pem'), 'utf8');
      expect(bundle).to.equal(ca.bundlePem);
      const blocks = pemBlocks(bundle);
      expect(blocks.map((block) => block.label)).to.deep.equal(['CERTIFICATE', 'CERTIFICATE']);
      expect(blocks[0]!.der.equals(ca.root.der)).to.equal(true);
      expect(blocks[1]!.der.equals(ca.active.certificate.der)).to.equal(true);
      const rootCert = new X509Certificate(blocks[0]!.der);
      expect(rootCert.ca).to.equal(true);
      expect(rootCert.checkIssued(rootCert)).to.equal(true);
      expect(new X509Certificate(blocks[1]!.der).checkIssued(rootCert)).to.equal(true);
    });

    it('makes a CA whose bundle lets openssl verify issued client certificates and the server certificate', async () => {
      const now = wholeSecond();
      const ca = await initCertificateAuthority(dir, parameters, now);
      const leaf = issueClientCertificate(ca.active, {
        spki: spkiOf(ecKey()), trustDomain: TRUST_DOMAIN, tee: 'sample', id: 'abc', ttlSeconds: 600, now,
        claims: { v: 1, tee: 'sample', verifier: 'builtin', status: 'affirming', tcb_status: 'unknown', trust_vector: { hardware: 0, executables: 0, configuration: 0 }, tee_claims: {}, iat: 0 },
      });
      const leafFile = await writeTemp(dir, 'leaf.pem', leaf.pem);
      const client = await openssl(['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', join(dir, 'bundle.pem'), leafFile]);
      expect(client.code, client.stdout + client.stderr).to.equal(0);
      const server = await openssl(['verify', '-x509_strict', '-purpose', 'sslserver', '-verify_hostname', 'localhost', '-verify_ip', '127.0.0.1', '-CAfile', join(dir, 'bundle.pem'), join(dir, 'server', 'cert.pem')]);
      expect(server.code, server.stdout + server.stderr).to.equal(0);
      expect(ca.server.certificatePem).to.equal(await readFile(join(dir, 'server', 'cert.pem'), 'utf8'));
      expect(ca.server.keyPem).to.equal(await readFile(join(dir, 'server', 'key.pem'), 'utf8'));
    });

    it('refuses to initialise a CA home twice and leaves the first CA untouched', async () => {
      await initCertificateAuthority(dir, parameters, wholeSecond());
      const rootBefore = await readFile(join(dir, 'root', 'cert.pem'), 'utf8');
      const keyBefore = await readFile(join(dir, 'root', 'key.pem'), 'utf8');
      const error = await thrownBy(() => initCertificateAuthority(dir, parameters, wholeSecond()));
      expect(error).to.be.instanceOf(Error);
      expect(String((error as Error).message)).to.match(/already exists/);
      expect(await readFile(join(dir, 'root', 'cert.pem'), 'utf8')).to.equal(rootBefore);
      expect(await readFile(join(dir, 'root', 'key.pem'), 'utf8')).to.equal(keyBefore);
      expect(await readdir(join(dir, 'issuers'))).to.have.length(1);
    });
  });

  describe('loadCertificateAuthority', () => {
    it('loads what init wrote', async () => {
      const now = wholeSecond();
      const created = await initCertificateAuthority(dir, parameters, now);
      const loaded = await loadCertificateAuthority(dir, parameters, new Date(now.getTime() + 1000));
      expect(loaded.dir).to.equal(dir);
      expect(loaded.root.der.equals(created.root.der)).to.equal(true);
      expect(loaded.active.id).to.equal(created.active.id);
      expect(loaded.active.certificate.der.equals(created.active.certificate.der)).to.equal(true);
      expect(loaded.active.signer.publicKeySpki.equals(created.active.signer.publicKeySpki)).to.equal(true);
      expect(loaded.issuers.map((issuer) => [issuer.id, issuer.state])).to.deep.equal([[created.active.id, 'active']]);
      expect(loaded.server.certificatePem).to.equal(created.server.certificatePem);
      expect(loaded.bundlePem).to.equal(created.bundlePem);
    });

    it('signs with the loaded issuer key so that the leaf verifies under the issuer certificate', async () => {
      const now = wholeSecond();
      await initCertificateAuthority(dir, parameters, now);
      const loaded = await loadCertificateAuthority(dir, parameters, now);
      const leaf = issueClientCertificate(loaded.active, {
        spki: spkiOf(ecKey()), trustDomain: TRUST_DOMAIN, tee: 'sample', id: 'abc', ttlSeconds: 600, now,
        claims: { v: 1, tee: 'sample', verifier: 'builtin', status: 'affirming', tcb_status: 'unknown', trust_vector: { hardware: 0, executables: 0, configuration: 0 }, tee_claims: {}, iat: 0 },
      });
      expect(new X509Certificate(leaf.der).verify(createPublicKey({ key: loaded.active.certificate.spki, format: 'der', type: 'spki' }))).to.equal(true);
    });

    it('refuses a directory without a CA', async () => {
      const error = await thrownBy(() => loadCertificateAuthority(dir, parameters));
      expect((error as Error).message).to.match(/no CA/);
    });

    it('adds a prepared issuer to the bundle and keeps the active one active', async () => {
      const now = wholeSecond();
      const created = await initCertificateAuthority(dir, parameters, now);
      const rootSigner = signerFromPem(await readFile(join(dir, 'root', 'key.pem'), 'utf8'));
      const preparedId = await createIssuer(dir, { certificate: created.root, signer: rootSigner }, parameters, now, 'prepared');
      const loaded = await loadCertificateAuthority(dir, parameters, now);
      expect(loaded.active.id).to.equal(created.active.id);
      expect(loaded.issuers.map((issuer) => issuer.id).sort()).to.deep.equal([created.active.id, preparedId].sort());
      expect(loaded.issuers.find((issuer) => issuer.id === preparedId)!.state).to.equal('prepared');
      const bundle = pemBlocks(loaded.bundlePem).map((block) => block.der.toString('hex'));
      expect(bundle).to.have.length(3);
      expect(bundle[0]).to.equal(created.root.der.toString('hex'));
      expect(bundle).to.include(loaded.issuers.find((issuer) => issuer.id === preparedId)!.certificate.der.toString('hex'));
      expect(await readFile(join(dir, 'bundle.pem'), 'utf8')).to.equal(loaded.bundlePem);
    });

    it('drops a tainted issuer from the bundle on load', async () => {
      const now = wholeSecond();
      const created = await initCertificateAuthority(dir, parameters, now);
      const rootSigner = signerFromPem(await readFile(join(dir, 'root', 'key.pem'), 'utf8'));
      const otherId = await createIssuer(dir, { certificate: created.root, signer: rootSigner }, parameters, now, 'prepared');
      await setState(dir, otherId, 'tainted');
      const loaded = await loadCertificateAuthority(dir, parameters, now);
      expect(pemBlocks(loaded.bundlePem)).to.have.length(2);
      expect(loaded.issuers.find((issuer) => issuer.id === otherId)!.state).to.equal('tainted');
    });

    it('refuses a CA without exactly one active issuer', async () => {
      const now = wholeSecond();
      const created = await initCertificateAuthority(dir, parameters, now);
      await setState(dir, created.active.id, 'retired');
      expect(((await thrownBy(() => loadCertificateAuthority(dir, parameters, now))) as Error).message).to.match(/exactly one active issuer, found 0/);
      await setState(dir, created.active.id, 'active');
      const rootSigner = signerFromPem(await readFile(join(dir, 'root', 'key.pem'), 'utf8'));
      await createIssuer(dir, { certificate: created.root, signer: rootSigner }, parameters, now, 'active');
      expect(((await thrownBy(() => loadCertificateAuthority(dir, parameters, now))) as Error).message).to.match(/exactly one active issuer, found 2/);
    });

    it('renews the server certificate once two thirds of its life are gone', async () => {
      const now = wholeSecond();
      const created = await initCertificateAuthority(dir, { ...parameters, serverTtlSeconds: 3000 }, now);
      const early = await loadCertificateAuthority(dir, { ...parameters, serverTtlSeconds: 3000 }, new Date(now.getTime() + 1000 * 1000));
      expect(early.server.certificatePem).to.equal(created.server.certificatePem);
      const later = new Date(now.getTime() + 2500 * 1000);
      const renewed = await loadCertificateAuthority(dir, { ...parameters, serverTtlSeconds: 3000 }, later);
      expect(renewed.server.certificatePem).to.not.equal(created.server.certificatePem);
      expect(new Date(new X509Certificate(renewed.server.certificatePem).validTo).getTime()).to.equal(later.getTime() + 3000 * 1000);
    });
  });

  describe('trustBundle', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    const root = makeRoot({ now: new Date('2026-01-01T00:00:00Z') });
    const current = (id: string): IssuerRecord['certificate'] => makeIssuer(root, { id, now: new Date('2026-05-01T00:00:00Z'), ttlSeconds: 90 * DAY }).certificate;
    // issued 2026-01-10 for 30 days: expired on 2026-02-09, before `now`
    const expired = (id: string): IssuerRecord['certificate'] => makeIssuer(root, { id, now: new Date('2026-01-10T00:00:00Z'), ttlSeconds: 30 * DAY }).certificate;

    it('holds the root and the prepared, active and retired-unexpired issuers, in order', () => {
      const issuers: IssuerRecord[] = [
        { id: 'prepared', state: 'prepared', certificate: current('prepared') },
        { id: 'active', state: 'active', certificate: current('active') },
        { id: 'retired', state: 'retired', certificate: current('retired') },
      ];
      const blocks = pemBlocks(trustBundle(root.certificate, issuers, now));
      expect(blocks.map((block) => block.der.toString('hex'))).to.deep.equal([root.certificate, ...issuers.map((issuer) => issuer.certificate)].map((info) => info.der.toString('hex')));
    });

    it('leaves out retired-expired, tainted and revoked issuers', () => {
      const active = current('active');
      const issuers: IssuerRecord[] = [
        { id: 'old', state: 'retired', certificate: expired('old') },
        { id: 'tainted', state: 'tainted', certificate: current('tainted') },
        { id: 'revoked', state: 'revoked', certificate: current('revoked') },
        { id: 'active', state: 'active', certificate: active },
      ];
      const blocks = pemBlocks(trustBundle(root.certificate, issuers, now));
      expect(blocks.map((block) => block.der.toString('hex'))).to.deep.equal([root.certificate.der.toString('hex'), active.der.toString('hex')]);
    });

    it('drops a retired issuer at the instant it expires', () => {
      const certificate = expired('edge');
      const record: IssuerRecord = { id: 'edge', state: 'retired', certificate };
      expect(pemBlocks(trustBundle(root.certificate, [record], new Date(certificate.notAfter.getTime() - 1000)))).to.have.length(2);
      expect(pemBlocks(trustBundle(root.certificate, [record], certificate.notAfter))).to.have.length(1);
    });

    it('is PEM text of concatenated certificates, root first', () => {
      const text = trustBundle(root.certificate, [], now);
      expect(text).to.equal(root.certificate.pem);
      expect(text).to.match(/^-----BEGIN CERTIFICATE-----\n/);
    });
  });
});
