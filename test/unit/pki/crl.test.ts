import { expect } from 'chai';
import type { CertificateAuthority, IssuerRecord } from '../../../src/pki/ca-home.js';
import { buildCrl } from '../../../src/pki/crl.js';
import { CrlPublisher } from '../../../src/protocol/crl-publisher.js';
import { FsRevocationList } from '../../../src/store/fs/fs-revocation-list.js';
import { leafOf, verifyWithCrl } from './crl-helpers.js';
import { errorCodeOf, makeIssuer, makeRoot, makeTempDir, NOW, openssl, removeDir, writeTemp } from './helpers.js';

describe('pki/crl buildCrl', function () {
  this.timeout(20_000);
  let dir: string;
  const root = makeRoot();
  const issuer = makeIssuer(root, { id: 'crl-issuer' });
  const revokedLeaf = leafOf(issuer);
  const goodLeaf = leafOf(issuer);
  const thisUpdate = new Date(NOW.getTime() + 30_000);
  const crlDer = buildCrl({
    issuer,
    revoked: [
      { serial: revokedLeaf.serial, revokedAt: thisUpdate, reason: 'keyCompromise' },
      { serial: '80', revokedAt: thisUpdate, reason: 'unspecified' },
    ],
    thisUpdate, nextUpdate: new Date(thisUpdate.getTime() + 86400_000), crlNumber: 1764410000123n,
  });

  before(async () => { dir = await makeTempDir('crl'); });
  after(async () => { await removeDir(dir); });

  it('is read by openssl crl -inform DER -text with issuer, dates, number, AKI and the revoked serials', async () => {
    const file = await writeTemp(dir, 'crl.der', crlDer);
    const result = await openssl(['crl', '-inform', 'DER', '-in', file, '-noout', '-text']);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.include('Version 2 (0x1)');
    expect(result.stdout).to.include('Issuer: O = keybroker.test, CN = keybroker issuing CA crl-issuer');
    expect(result.stdout).to.match(/Next Update: .*GMT/);
    expect(result.stdout).to.match(/X509v3 CRL Number:\s+1764410000123/);
    expect(result.stdout).to.include('X509v3 Authority Key Identifier');
    expect(result.stdout.toLowerCase()).to.include(`serial number: ${revokedLeaf.serial}`);
    expect(result.stdout).to.include('Key Compromise');
    // Serial 0x80 needs a leading zero octet to stay positive; unspecified carries no reason extension.
    expect(result.stdout).to.match(/Serial Number: 80\n\s+Revocation Date:[^\n]*\n(?!\s+CRL entry extensions)/);
  });

  it('carries a signature of the issuer key that openssl verifies', async () => {
    const file = await writeTemp(dir, 'crl.der', crlDer);
    const issuerFile = await writeTemp(dir, 'issuer.pem', issuer.certificate.pem);
    const good = await openssl(['crl', '-inform', 'DER', '-in', file, '-noout', '-CAfile', issuerFile]);
    expect(good.stderr + good.stdout).to.include('verify OK');
    const otherIssuer = await writeTemp(dir, 'other.pem', makeIssuer(root, { id: 'crl-issuer' }).certificate.pem);
    const bad = await openssl(['crl', '-inform', 'DER', '-in', file, '-noout', '-CAfile', otherIssuer]);
    expect(bad.stderr + bad.stdout).to.not.include('verify OK');
  });

  it('makes openssl verify -crl_check reject the revoked leaf and accept the good one', async () => {
    const chain = root.certificate.pem + issuer.certificate.pem;
    const at = new Date(thisUpdate.getTime() + 60_000);
    const revoked = await verifyWithCrl(dir, chain, crlDer, revokedLeaf, at);
    expect(revoked.code).to.not.equal(0);
    expect(revoked.output).to.include('certificate revoked');
    const good = await verifyWithCrl(dir, chain, crlDer, goodLeaf, at);
    expect(good.code, good.output).to.equal(0);
    expect(good.output).to.include(': OK');
  });
});

describe('protocol/crl-publisher CrlPublisher', function () {
  this.timeout(20_000);
  let dir: string;
  let revocations: FsRevocationList;
  let now: Date;
  const root = makeRoot();
  const active = makeIssuer(root, { id: 'active-1' });
  const retired = makeIssuer(root, { id: 'retired-0' });
  const gone = makeIssuer(root, { id: 'revoked-0' });
  const issuers: IssuerRecord[] = [
    { id: 'active-1', state: 'active', certificate: active.certificate, signer: active.signer },
    { id: 'retired-0', state: 'retired', certificate: retired.certificate, signer: retired.signer },
    { id: 'revoked-0', state: 'revoked', certificate: gone.certificate, signer: gone.signer },
  ];
  const ca = { issuers, active: { id: 'active-1', certificate: active.certificate, signer: active.signer } } as unknown as CertificateAuthority;
  let publisher: CrlPublisher;

  beforeEach(async () => {
    dir = await makeTempDir('crl-publisher');
    revocations = await FsRevocationList.open(dir);
    now = new Date(NOW.getTime() + 3600_000);
    publisher = new CrlPublisher(() => ca, revocations, () => now, 3600);
  });
  afterEach(async () => {
    await revocations.close();
    await removeDir(dir);
  });

  const serialsOf = (der: Buffer): Promise<string> => writeTemp(dir, 'p.der', der).then((file) => openssl(['crl', '-inform', 'DER', '-in', file, '-noout', '-text'])).then((result) => result.stdout.toLowerCase());

  it('serves the same CRL while nothing changed, a new one with a higher number after a revocation', async () => {
    const first = await publisher.activeCrl();
    expect(first.issuerId).to.equal('active-1');
    expect((await publisher.activeCrl()).der.equals(first.der)).to.equal(true);
    const leaf = leafOf(active, now);
    await revocations.revoke({ serial: leaf.serial, issuer_id: 'active-1', revoked_at: now.toISOString(), reason: 'superseded', revoked_by: 'ops', not_after: leaf.notAfter.toISOString() });
    const second = await publisher.activeCrl();
    expect(second.crlNumber > first.crlNumber).to.equal(true);
    expect(await serialsOf(second.der)).to.include(`serial number: ${leaf.serial}`);
    expect(await serialsOf((await publisher.crlOf('retired-0')).der)).to.not.include(leaf.serial);
  });

  it('drops the entry of a revoked certificate once that certificate has expired', async () => {
    const leaf = leafOf(active, now);
    await revocations.revoke({ serial: leaf.serial, issuer_id: 'active-1', revoked_at: now.toISOString(), reason: 'keyCompromise', revoked_by: 'ops', not_after: leaf.notAfter.toISOString() });
    const listed = await publisher.activeCrl();
    expect(await serialsOf(listed.der)).to.include(leaf.serial);
    now = new Date(leaf.notAfter.getTime() + 1000);
    const after = await publisher.activeCrl();
    expect(after.crlNumber > listed.crlNumber).to.equal(true);
    expect(await serialsOf(after.der)).to.not.include(leaf.serial);
  });

  it('rebuilds a CRL once half of its validity is gone, so nextUpdate is never near', async () => {
    const first = await publisher.activeCrl();
    now = new Date(now.getTime() + 1799_000);
    expect((await publisher.activeCrl()).crlNumber).to.equal(first.crlNumber);
    now = new Date(now.getTime() + 2_000);
    const rebuilt = await publisher.activeCrl();
    expect(rebuilt.crlNumber > first.crlNumber).to.equal(true);
    expect(rebuilt.nextUpdate.getTime() - now.getTime()).to.be.greaterThan(1800_000);
  });

  it('publishes for usable issuers only: 404 for a revoked or unknown issuer', async () => {
    expect((await publisher.allCrls()).map((crl) => crl.issuerId)).to.deep.equal(['active-1', 'retired-0']);
    expect(await errorCodeOf(() => publisher.crlOf('revoked-0'))).to.equal('not-found');
    expect(await errorCodeOf(() => publisher.crlOf('nope'))).to.equal('not-found');
  });
});
