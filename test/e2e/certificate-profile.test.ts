/** The issued client certificate over the wire, against the profile of PROTOCOL.md 1.4. */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import * as x509 from '@peculiar/x509';
import { expect } from 'chai';
import { makeTempDir, removeTempDir, type BrokerProcess } from './helpers/broker-process.js';
import { describeResult, runCli } from './helpers/run-command.js';
import { sharedBroker } from './helpers/shared-broker.js';
import { attestNew, pemBlocks, type AttestResponse, type TeeKey } from './helpers/v1-protocol.js';

const OID_CMW = '1.3.6.1.5.5.7.1.35';
const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

function extensionOf<T extends x509.Extension>(certificate: x509.X509Certificate, type: new (...args: never[]) => T): T {
  const found = certificate.getExtension(type as never) as T | null;
  expect(found, type.name).to.not.equal(null);
  return found!;
}

describe('e2e: client certificate profile (PROTOCOL.md 1.4)', function () {
  let broker: BrokerProcess;
  let dir: string;
  let key: TeeKey;
  let response: AttestResponse;
  let attestedAt: number;
  let leaf: x509.X509Certificate;
  let issuer: x509.X509Certificate;

  before(async function () {
    broker = await sharedBroker();
    dir = makeTempDir();
    attestedAt = Date.now();
    ({ key, response } = await attestNew(broker, 'ec-p256'));
    leaf = new x509.X509Certificate(response.certificate);
    issuer = new x509.X509Certificate(pemBlocks(response.chain)[0]!);
  });

  after(function () {
    if (dir) removeTempDir(dir);
  });

  it('is X.509 v3 with a positive random serial of at most 128 bits equal to the response serial', function () {
    const parsed = pkijs.Certificate.fromBER(leaf.rawData);
    expect(parsed.version).to.equal(2);
    const serial = BigInt(`0x${leaf.serialNumber}`);
    expect(serial).to.equal(BigInt(`0x${response.serial}`));
    expect(serial > 0n).to.equal(true);
    expect(serial < 1n << 128n).to.equal(true);
    expect(serial >= 1n << 64n, 'a 128-bit random serial is very unlikely to be this small').to.equal(true);
    const serialBytes = parsed.serialNumber.valueBlock.valueHexView;
    expect(serialBytes[0]! & 0x80, 'DER INTEGER must be positive').to.equal(0);
  });

  it('names O=<trust-domain>, CN=<tee>/<id> and exactly one SAN URI equal to spiffe_id', function () {
    const id = response.spiffe_id.split('/').pop()!;
    expect(leaf.subjectName.getField('O')).to.deep.equal(['keybroker.local']);
    expect(leaf.subjectName.getField('CN')).to.deep.equal([`sample/${id}`]);
    expect(leaf.issuer).to.equal(issuer.subject);
    const san = extensionOf(leaf, x509.SubjectAlternativeNameExtension);
    const names = san.names.items.map((name) => ({ type: name.type, value: name.value }));
    expect(names).to.deep.equal([{ type: 'url', value: response.spiffe_id }]);
  });

  it('has the documented extensions: BasicConstraints, KeyUsage, EKU clientAuth, SKI, AKI', function () {
    const basic = extensionOf(leaf, x509.BasicConstraintsExtension);
    expect(basic.critical).to.equal(true);
    expect(basic.ca).to.equal(false);
    const usage = extensionOf(leaf, x509.KeyUsagesExtension);
    expect(usage.critical).to.equal(true);
    expect(usage.usages).to.equal(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement);
    expect(extensionOf(leaf, x509.ExtendedKeyUsageExtension).usages).to.deep.equal([OID_CLIENT_AUTH]);
    const ski = extensionOf(leaf, x509.SubjectKeyIdentifierExtension);
    expect(ski.keyId).to.match(/^[0-9a-f]+$/);
    const aki = extensionOf(leaf, x509.AuthorityKeyIdentifierExtension);
    expect(aki.keyId).to.equal(extensionOf(issuer, x509.SubjectKeyIdentifierExtension).keyId);
  });

  it('is valid from now - 60 s until now + 600 s (default TTL), expires_at equal to notAfter, signed by the chain', async function () {
    expect(leaf.notBefore.getTime()).to.be.within(attestedAt - 65_000, Date.now() - 55_000);
    expect(leaf.notAfter.getTime()).to.be.within(attestedAt + 595_000, Date.now() + 601_000);
    expect(Math.abs(Date.parse(response.expires_at) - leaf.notAfter.getTime())).to.be.below(1000);
    expect(await leaf.verify({ publicKey: issuer })).to.equal(true);
    expect(Buffer.from(leaf.publicKey.rawData).equals(key.spki), 'certificate holds the CSR key').to.equal(true);
    expect(broker.bundlePem.replace(/\s+/g, '')).to.include(response.chain.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''));
  });

  it('carries extension 1.3.6.1.5.5.7.1.35 (non-critical): a UTF8String JSON CMW whose claims equal the response claims', function () {
    const cmw = leaf.extensions.find((candidate) => candidate.type === OID_CMW);
    expect(cmw, 'CMW extension').to.not.equal(undefined);
    expect(cmw!.critical).to.equal(false);
    const decoded = asn1js.fromBER(cmw!.value);
    expect(decoded.offset).to.not.equal(-1);
    expect(decoded.result).to.be.instanceOf(asn1js.Utf8String);
    const record = JSON.parse((decoded.result as asn1js.Utf8String).valueBlock.value) as unknown[];
    expect(record).to.have.lengthOf(2);
    expect(record[0]).to.equal('application/eat-ucs+json');
    expect(record[1]).to.be.a('string').and.match(/^[A-Za-z0-9_-]+$/);
    const claimsText = Buffer.from(record[1] as string, 'base64url').toString('utf8');
    expect(Buffer.byteLength(claimsText)).to.be.at.most(8 * 1024);
    const claims = JSON.parse(claimsText) as Record<string, unknown>;
    expect(JSON.stringify(claims), 'claims JSON is compact').to.equal(claimsText);
    expect(claims).to.deep.equal(response.claims);
    expect(claims).to.include({ v: 1, tee: 'sample', status: 'affirming' });
    expect(claims.iat).to.be.a('number').within(Math.floor(attestedAt / 1000) - 5, Math.ceil(Date.now() / 1000) + 5);
  });

  it('`keybroker cert show FILE` prints JSON whose claims equal the response claims', async function () {
    const file = join(dir, 'cert.pem');
    writeFileSync(file, response.certificate);
    const result = await runCli(broker.home, ['cert', 'show', file], { cwd: dir });
    expect(result.code, describeResult(result)).to.equal(0);
    const shown = JSON.parse(result.stdout.toString()) as { claims: unknown; serial: string; subject_alt_name: string };
    expect(shown.claims).to.deep.equal(response.claims);
    expect(BigInt(`0x${shown.serial}`)).to.equal(BigInt(`0x${response.serial}`));
    expect(shown.subject_alt_name).to.include(response.spiffe_id);
  });

  it('an Ed25519 leaf has KeyUsage digitalSignature only (keyAgreement is for EC keys)', async function () {
    const ed = await attestNew(broker, 'ed25519');
    const certificate = new x509.X509Certificate(ed.response.certificate);
    const usage = extensionOf(certificate, x509.KeyUsagesExtension);
    expect(usage.critical).to.equal(true);
    expect(usage.usages).to.equal(x509.KeyUsageFlags.digitalSignature);
  });
});
