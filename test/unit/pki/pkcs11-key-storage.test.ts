import { expect } from 'chai';
import { createPublicKey, verify } from 'node:crypto';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readCertificate } from '../../../src/pki/certificate-info.js';
import { issueIssuerCertificate, type SigningAuthority } from '../../../src/pki/certificate-profiles.js';
import { buildCrl } from '../../../src/pki/crl.js';
import { rawEcdsaToDer } from '../../../src/pki/key-storage/ecdsa-signature.js';
import type { IssuerKeyStorage } from '../../../src/pki/key-storage/issuer-key-storage.js';
import { openPkcs11KeyStorage } from '../../../src/pki/key-storage/pkcs11-key-storage.js';
import { createSoftHsmToken, requireSoftHsm, SOFTHSM_MODULE, type SoftHsmToken } from '../../helpers/softhsm.js';
import { leafOf, verifyWithCrl } from './crl-helpers.js';
import { makeRoot, makeTempDir, NOW, openssl, removeDir, TRUST_DOMAIN, writeTemp } from './helpers.js';

/** The checkout root (this file runs from dist/test/unit/pki/), where node_modules/graphene-pk11 resolves. */
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

describe('pki/key-storage rawEcdsaToDer', () => {
  it('encodes r and s as minimal non-negative INTEGERs', () => {
    const r = Buffer.alloc(32, 0); r[31] = 1;
    const s = Buffer.alloc(32, 0xff);
    // r = 1 loses its 31 leading zero octets; s has its high bit set and gains a zero octet.
    expect(rawEcdsaToDer(Buffer.concat([r, s])).toString('hex')).to.equal(`3026020101022100${'ff'.repeat(32)}`);
  });

  it('refuses an odd or empty length', () => {
    expect(() => rawEcdsaToDer(Buffer.alloc(63))).to.throw(/even, non-zero length/);
    expect(() => rawEcdsaToDer(Buffer.alloc(0))).to.throw(/even, non-zero length/);
  });
});

describe('pki/key-storage PKCS#11 with SoftHSM2', function () {
  this.timeout(30_000);
  let dir: string;
  let token: SoftHsmToken;
  let storage: IssuerKeyStorage;
  const previousConf = process.env.SOFTHSM2_CONF;

  before(async function () {
    requireSoftHsm(this);
    dir = await makeTempDir('softhsm');
    token = await createSoftHsmToken(dir);
    // SoftHSM reads its config when the module initializes, which the storage does on open.
    process.env.SOFTHSM2_CONF = token.conf;
    storage = openPkcs11KeyStorage({ modulePath: SOFTHSM_MODULE, tokenLabel: token.label, pin: token.pin, keyLabelPrefix: 'kb-test-' });
  });

  after(async () => {
    await storage?.close();
    if (previousConf === undefined) delete process.env.SOFTHSM2_CONF; else process.env.SOFTHSM2_CONF = previousConf;
    await removeDir(dir);
  });

  it('generates an issuer key in the token that is sensitive and never extractable', async () => {
    const signer = await storage.generate('hsm-attrs');
    expect(createPublicKey({ key: signer.publicKeySpki, format: 'der', type: 'spki' }).asymmetricKeyDetails?.namedCurve).to.equal('prime256v1');
    // A separate look into the token, from another process (the module is initialized once per process).
    const script = `
      import { Module, ObjectClass, SessionFlag } from 'graphene-pk11';
      const library = Module.load(${JSON.stringify(SOFTHSM_MODULE)});
      library.initialize();
      const session = library.getSlots(true).items(0).open(SessionFlag.SERIAL_SESSION);
      session.login(process.env.PIN);
      const keys = session.find({ class: ObjectClass.PRIVATE_KEY, label: 'kb-test-hsm-attrs' });
      const key = keys.items(0);
      let value = 'readable';
      try { key.getAttribute({ value: null }); } catch (error) { value = String(error.message).split('\\n')[0]; }
      console.log(JSON.stringify({ count: keys.length, value, ...key.getAttribute({ token: null, sensitive: null, extractable: null, neverExtractable: null, private: null }) }));
      library.finalize();`;
    const result = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, env: { ...process.env, PIN: token.pin } });
    const seen = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(seen).to.deep.include({ count: 1, token: true, sensitive: true, extractable: false, neverExtractable: true, private: true });
    expect(seen.value).to.include('CKR_ATTRIBUTE_SENSITIVE');
  });

  it('signs in the token: DER ECDSA signatures that node:crypto verifies, from a key loaded again by label', async () => {
    const generated = await storage.generate('hsm-sign');
    const loaded = await storage.load('hsm-sign');
    expect(loaded?.publicKeySpki.equals(generated.publicKeySpki)).to.equal(true);
    const data = Buffer.from('to be signed');
    for (let round = 0; round < 20; round++) {
      const signature = loaded!.sign(data);
      expect(verify('sha256', data, createPublicKey({ key: generated.publicKeySpki, format: 'der', type: 'spki' }), signature)).to.equal(true);
    }
    expect(await storage.load('no-such-issuer')).to.equal(undefined);
    const error = await storage.generate('hsm-sign').then(() => undefined, (caught: Error) => caught);
    expect(error?.message).to.include('already exists');
  });

  it('issues a client certificate and a CRL with a SoftHSM-held issuer key that the real openssl verifies', async () => {
    const root = makeRoot();
    const hsmSigner = await storage.generate('hsm-issuer');
    const issuerCertificate = issueIssuerCertificate(root, { spki: hsmSigner.publicKeySpki, trustDomain: TRUST_DOMAIN, issuerId: 'hsm-issuer', ttlSeconds: 90 * 86400, now: NOW });
    const issuer: SigningAuthority = { certificate: readCertificate(issuerCertificate.der), signer: hsmSigner };
    const leaf = leafOf(issuer);
    const other = leafOf(issuer);
    const chainPem = root.certificate.pem + issuerCertificate.pem;
    const chain = await writeTemp(dir, 'chain.pem', chainPem);
    const leafFile = await writeTemp(dir, 'leaf.pem', leaf.pem);
    const at = String(Math.floor(NOW.getTime() / 1000) + 60);
    const verified = await openssl(['verify', '-attime', at, '-CAfile', chain, leafFile]);
    expect(verified.code, verified.stderr).to.equal(0);
    expect(verified.stdout).to.include(': OK');

    const crl = buildCrl({ issuer, revoked: [{ serial: leaf.serial, revokedAt: NOW, reason: 'keyCompromise' }], thisUpdate: NOW, nextUpdate: new Date(NOW.getTime() + 86400_000), crlNumber: 1n });
    const revoked = await verifyWithCrl(dir, chainPem, crl, leaf, new Date(NOW.getTime() + 60_000));
    expect(revoked.code).to.not.equal(0);
    expect(revoked.output).to.include('certificate revoked');
    const good = await verifyWithCrl(dir, chainPem, crl, other, new Date(NOW.getTime() + 60_000));
    expect(good.code, good.output).to.equal(0);
  });
});
