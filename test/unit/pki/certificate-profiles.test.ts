import 'reflect-metadata';
import { expect } from 'chai';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { createHash, generateKeyPairSync, X509Certificate as NodeX509Certificate, type KeyObject } from 'node:crypto';
import type { Claims } from '../../../src/domain/claims.js';
import {
  createRootCertificate, issueAdminCertificate, issueClientCertificate, issueServerCertificate,
  BACKDATE_SECONDS, type IssuedCertificate,
} from '../../../src/pki/certificate-profiles.js';
import { keyIdentifier } from '../../../src/pki/certificate-builder.js';
import { keyObjectSigner } from '../../../src/pki/signer.js';
import {
  ecKey, epochSeconds, makeIssuer, makeRoot, makeTempDir, NOW, openssl, removeDir, rsa3072Key, spkiOf, TRUST_DOMAIN, writeTemp,
  type TestAuthority,
} from './helpers.js';

const OIDS = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  ski: '2.5.29.14',
  aki: '2.5.29.35',
  san: '2.5.29.17',
  cmw: '1.3.6.1.5.5.7.1.35',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  O: '2.5.4.10',
  CN: '2.5.4.3',
};

const KU = x509.KeyUsageFlags;

function sampleClaims(overrides: Partial<Claims> = {}): Claims {
  return {
    v: 1, tee: 'sample', verifier: 'builtin', status: 'affirming', tcb_status: 'unknown',
    measurement: 'ab'.repeat(48),
    trust_vector: { hardware: 0, executables: 0, configuration: 0 },
    tee_claims: { svn: '1', report_data: 'cd'.repeat(64), nested: { a: [1, 2, 'ü'] } },
    iat: Math.floor(NOW.getTime() / 1000),
    ...overrides,
  };
}

function extensionOids(certificate: x509.X509Certificate): string[] {
  return certificate.extensions.map((extension) => extension.type);
}

/** Name attributes as [oid, value, asn1 type] in RDN order, checking one attribute per RDN. */
function nameAttributes(name: pkijs.RelativeDistinguishedNames): [string, string, string][] {
  const sequence = asn1js.fromBER(name.valueBeforeDecode).result as asn1js.Sequence;
  return sequence.valueBlock.value.map((rdn) => {
    const attributes = (rdn as asn1js.Set).valueBlock.value;
    expect(attributes, 'one attribute per RDN').to.have.length(1);
    const [type, value] = (attributes[0] as asn1js.Sequence).valueBlock.value as [asn1js.ObjectIdentifier, asn1js.Utf8String];
    return [type.valueBlock.toString(), value.valueBlock.value, value.constructor.name];
  });
}

function sanNames(certificate: x509.X509Certificate): { type: string; value: string }[] {
  const san = certificate.getExtension(x509.SubjectAlternativeNameExtension);
  expect(san, 'SubjectAltName present').to.not.equal(null);
  return san!.names.toJSON();
}

/** GeneralName raw entries of the SAN: [context tag, content bytes]. */
function rawSanEntries(certificate: x509.X509Certificate): [number, Buffer][] {
  const san = certificate.getExtension(OIDS.san)!;
  const sequence = asn1js.fromBER(san.value).result as asn1js.Sequence;
  return sequence.valueBlock.value.map((entry) => [entry.idBlock.tagNumber, Buffer.from((entry as asn1js.Primitive).valueBlock.valueHexView)]);
}

async function verifyWithOpenssl(files: { caFile: string; untrusted?: string; leaf: string }, extra: string[] = []): Promise<{ code: number; out: string }> {
  const args = ['verify', '-x509_strict', '-attime', epochSeconds(new Date(NOW.getTime() + 1000)), '-CAfile', files.caFile, ...(files.untrusted ? ['-untrusted', files.untrusted] : []), ...extra, files.leaf];
  const result = await openssl(args);
  return { code: result.code, out: result.stdout + result.stderr };
}

describe('pki/certificate-profiles', function () {
  this.timeout(20_000);
  let root: TestAuthority;
  let issuer: TestAuthority;
  let dir: string;
  let rootPemFile: string;
  let caFile: string;

  before(async () => {
    root = makeRoot();
    issuer = makeIssuer(root, { id: 'issuer-1' });
    dir = await makeTempDir('profiles');
    rootPemFile = await writeTemp(dir, 'root.pem', root.issued.pem);
    caFile = await writeTemp(dir, 'ca.pem', root.issued.pem + issuer.issued.pem);
  });

  after(async () => {
    await removeDir(dir);
  });

  describe('client certificate (PROTOCOL.md 1.4)', () => {
    const ttlSeconds = 600;
    let key: KeyObject;
    let spki: Buffer;
    let claims: Claims;
    let issued: IssuedCertificate & { spiffeId: string };
    let certificate: x509.X509Certificate;
    let pki: pkijs.Certificate;

    before(() => {
      key = ecKey('P-256');
      spki = spkiOf(key);
      claims = sampleClaims();
      issued = issueClientCertificate(issuer, { spki, trustDomain: TRUST_DOMAIN, tee: 'sample', id: '0123456789abcdef', claims, ttlSeconds, now: NOW });
      certificate = new x509.X509Certificate(issued.der);
      pki = pkijs.Certificate.fromBER(issued.der);
    });

    it('is X.509 v3', () => {
      expect(pki.version).to.equal(2);
    });

    it('has a positive 128-bit serial (16 bytes, top bit set) reported as 32 lowercase hex digits', () => {
      const bytes = Buffer.from(pki.serialNumber.valueBlock.valueHexView);
      // DER INTEGER: a 0x00 pad keeps the value positive, then 16 bytes with the top bit set.
      expect(bytes.length).to.equal(17);
      expect(bytes[0]).to.equal(0);
      expect(bytes[1]! & 0x80).to.equal(0x80);
      expect(pki.serialNumber.toBigInt() > 0n).to.equal(true);
      expect(issued.serial).to.match(/^[0-9a-f]{32}$/);
      expect(issued.serial).to.equal(bytes.subarray(1).toString('hex'));
    });

    it('draws a fresh random serial for every certificate', () => {
      const serials = new Set<string>();
      for (let round = 0; round < 20; round++) {
        const other = issueClientCertificate(issuer, { spki, trustDomain: TRUST_DOMAIN, tee: 'sample', id: '0123456789abcdef', claims, ttlSeconds, now: NOW });
        expect(other.serial).to.match(/^[89a-f][0-9a-f]{31}$/);
        serials.add(other.serial);
      }
      serials.add(issued.serial);
      expect(serials.size).to.equal(21);
    });

    it('names the issuer exactly as the issuer certificate names its subject', () => {
      expect(Buffer.from(pki.issuer.valueBeforeDecode).equals(issuer.certificate.subjectName)).to.equal(true);
      expect(certificate.issuer).to.equal(new x509.X509Certificate(issuer.issued.der).subject);
    });

    it('has the subject O=<trust-domain>, CN=<tee>/<id> as UTF8Strings', () => {
      expect(nameAttributes(pki.subject)).to.deep.equal([
        [OIDS.O, TRUST_DOMAIN, 'Utf8String'],
        [OIDS.CN, 'sample/0123456789abcdef', 'Utf8String'],
      ]);
    });

    it('has exactly one SAN, the URI spiffe://<td>/tee/<tee>/<id>, and returns it as spiffeId', () => {
      const expected = `spiffe://${TRUST_DOMAIN}/tee/sample/0123456789abcdef`;
      expect(sanNames(certificate)).to.deep.equal([{ type: 'url', value: expected }]);
      expect(issued.spiffeId).to.equal(expected);
      expect(certificate.getExtension(OIDS.san)!.critical).to.equal(false);
    });

    it('has BasicConstraints CA:FALSE, critical', () => {
      const basic = certificate.getExtension(x509.BasicConstraintsExtension)!;
      expect(basic.critical).to.equal(true);
      expect(basic.ca).to.equal(false);
      expect(basic.pathLength).to.equal(undefined);
    });

    it('has KeyUsage digitalSignature + keyAgreement for an EC key, critical', () => {
      const usage = certificate.getExtension(x509.KeyUsagesExtension)!;
      expect(usage.critical).to.equal(true);
      expect(usage.usages).to.equal(KU.digitalSignature | KU.keyAgreement);
    });

    it('has ExtendedKeyUsage clientAuth only', () => {
      const eku = certificate.getExtension(x509.ExtendedKeyUsageExtension)!;
      expect(eku.usages).to.deep.equal([OIDS.clientAuth]);
    });

    it('has a SubjectKeyIdentifier of the subject key and an AuthorityKeyIdentifier equal to the issuer SKI', () => {
      const ski = certificate.getExtension(x509.SubjectKeyIdentifierExtension)!;
      const aki = certificate.getExtension(x509.AuthorityKeyIdentifierExtension)!;
      const issuerSki = new x509.X509Certificate(issuer.issued.der).getExtension(x509.SubjectKeyIdentifierExtension)!;
      expect(ski.critical).to.equal(false);
      expect(aki.critical).to.equal(false);
      // RFC 7093 method 4: leftmost 160 bits of SHA-256 of the SPKI.
      expect(ski.keyId).to.equal(createHash('sha256').update(spki).digest().subarray(0, 20).toString('hex'));
      expect(aki.keyId).to.equal(issuerSki.keyId);
      expect(aki.keyId).to.equal(keyIdentifier(issuer.signer.publicKeySpki).toString('hex'));
      expect(aki.certId).to.equal(undefined);
      expect(ski.keyId).to.not.equal(aki.keyId);
    });

    it('carries the subject key given, byte for byte', () => {
      expect(Buffer.from(pki.subjectPublicKeyInfo.toSchema().toBER()).equals(spki)).to.equal(true);
    });

    it('is valid from now - 60 s until now + TTL', () => {
      expect(BACKDATE_SECONDS).to.equal(60);
      expect(certificate.notBefore.toISOString()).to.equal(new Date(NOW.getTime() - 60_000).toISOString());
      expect(certificate.notAfter.toISOString()).to.equal(new Date(NOW.getTime() + ttlSeconds * 1000).toISOString());
      expect(issued.notBefore.getTime()).to.equal(certificate.notBefore.getTime());
      expect(issued.notAfter.getTime()).to.equal(certificate.notAfter.getTime());
    });

    it('never outlives its issuer: notAfter = issuer notAfter when the issuer expires sooner', () => {
      const shortIssuer = makeIssuer(root, { id: 'short', ttlSeconds: 300 });
      const short = issueClientCertificate(shortIssuer, { spki, trustDomain: TRUST_DOMAIN, tee: 'sample', id: 'x', claims, ttlSeconds: 600, now: NOW });
      const parsed = new x509.X509Certificate(short.der);
      expect(parsed.notAfter.getTime()).to.equal(shortIssuer.certificate.notAfter.getTime());
      expect(parsed.notAfter.getTime()).to.equal(NOW.getTime() + 300_000);
      expect(short.notAfter.getTime()).to.equal(parsed.notAfter.getTime());
    });

    it('carries the claims in a non-critical id-pe-cmw extension: DER UTF8String of ["application/eat-ucs+json", base64url(claims JSON)]', () => {
      const cmw = certificate.getExtension(OIDS.cmw)!;
      expect(cmw, 'extension 1.3.6.1.5.5.7.1.35 present').to.not.equal(null);
      expect(cmw.critical).to.equal(false);
      const parsed = asn1js.fromBER(cmw.value);
      expect(parsed.offset).to.equal(cmw.value.byteLength);
      expect(parsed.result).to.be.instanceOf(asn1js.Utf8String);
      expect(new Uint8Array(cmw.value)[0]).to.equal(0x0c);
      const record: unknown = JSON.parse((parsed.result as asn1js.Utf8String).valueBlock.value);
      expect(record).to.be.an('array').with.length(2);
      const [mediaType, payload] = record as [unknown, unknown];
      expect(mediaType).to.equal('application/eat-ucs+json');
      expect(payload).to.be.a('string').and.match(/^[A-Za-z0-9_-]+$/);
      const json = Buffer.from(payload as string, 'base64url').toString('utf8');
      expect(Buffer.from(json, 'utf8').toString('base64url')).to.equal(payload);
      expect(JSON.parse(json)).to.deep.equal(claims);
      // compact JSON: no insignificant whitespace
      expect(json).to.equal(JSON.stringify(JSON.parse(json)));
    });

    it('has exactly the extensions of the profile, each once', () => {
      expect([...extensionOids(certificate)].sort()).to.deep.equal(
        [OIDS.basicConstraints, OIDS.keyUsage, OIDS.extKeyUsage, OIDS.ski, OIDS.aki, OIDS.san, OIDS.cmw].sort(),
      );
    });

    it('is signed by the issuer key', async () => {
      const node = new NodeX509Certificate(issued.der);
      expect(node.verify(issuer.certificate.x509.publicKey)).to.equal(true);
      expect(node.verify(root.certificate.x509.publicKey)).to.equal(false);
      expect(node.checkIssued(issuer.certificate.x509)).to.equal(true);
      expect(await certificate.verify({ publicKey: new x509.X509Certificate(issuer.issued.der).publicKey, signatureOnly: true })).to.equal(true);
    });

    it('returns a PEM of the same DER', () => {
      expect(Buffer.from(new x509.X509Certificate(issued.pem).rawData).equals(issued.der)).to.equal(true);
      expect(issued.pem).to.match(/^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n$/);
    });

    it('is accepted by openssl verify -x509_strict -purpose sslclient with root + issuer, and refused with the root alone', async () => {
      const leaf = await writeTemp(dir, 'client.pem', issued.pem);
      const good = await verifyWithOpenssl({ caFile, leaf }, ['-purpose', 'sslclient']);
      expect(good.code, good.out).to.equal(0);
      expect(good.out).to.contain(': OK');
      const noIssuer = await verifyWithOpenssl({ caFile: rootPemFile, leaf });
      expect(noIssuer.code, noIssuer.out).to.not.equal(0);
      const asServer = await verifyWithOpenssl({ caFile, leaf }, ['-purpose', 'sslserver']);
      expect(asServer.code, 'a clientAuth-only certificate is not a TLS server certificate').to.not.equal(0);
    });

    it('is refused by openssl after notAfter and before notBefore', async () => {
      const leaf = await writeTemp(dir, 'client-time.pem', issued.pem);
      const late = await openssl(['verify', '-attime', epochSeconds(new Date(NOW.getTime() + (ttlSeconds + 1) * 1000)), '-CAfile', caFile, leaf]);
      expect(late.code).to.not.equal(0);
      const early = await openssl(['verify', '-attime', epochSeconds(new Date(NOW.getTime() - 61_000)), '-CAfile', caFile, leaf]);
      expect(early.code).to.not.equal(0);
    });

    it('is parsed by openssl x509 -text with every extension shown', async () => {
      const leaf = await writeTemp(dir, 'client-text.pem', issued.pem);
      const result = await openssl(['x509', '-in', leaf, '-noout', '-text']);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.contain('Version: 3 (0x2)');
      expect(result.stdout).to.match(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
      expect(result.stdout).to.match(/X509v3 Key Usage: critical\s+Digital Signature, Key Agreement/);
      expect(result.stdout).to.match(/X509v3 Extended Key Usage:\s+TLS Web Client Authentication\n/);
      expect(result.stdout).to.contain(`URI:spiffe://${TRUST_DOMAIN}/tee/sample/0123456789abcdef`);
      expect(result.stdout).to.contain('X509v3 Subject Key Identifier');
      expect(result.stdout).to.contain('X509v3 Authority Key Identifier');
      expect(result.stdout).to.match(/1\.3\.6\.1\.5\.5\.7\.1\.35:\s*\n/);
      expect(result.stdout).to.contain(`Subject: O = ${TRUST_DOMAIN}, CN = sample/0123456789abcdef`);
    });

    it('gives an Ed25519 key digitalSignature only (no keyAgreement)', () => {
      const ed = generateKeyPairSync('ed25519').privateKey;
      const cert = new x509.X509Certificate(issueClientCertificate(issuer, { spki: spkiOf(ed), trustDomain: TRUST_DOMAIN, tee: 'sample', id: 'ed', claims, ttlSeconds, now: NOW }).der);
      expect(cert.getExtension(x509.KeyUsagesExtension)!.usages).to.equal(KU.digitalSignature);
      expect(cert.getExtension(x509.KeyUsagesExtension)!.critical).to.equal(true);
    });

    it('gives an RSA key digitalSignature only (no keyAgreement), and openssl accepts it', async () => {
      const rsa = rsa3072Key();
      const rsaIssued = issueClientCertificate(issuer, { spki: spkiOf(rsa), trustDomain: TRUST_DOMAIN, tee: 'sample', id: 'rsa', claims, ttlSeconds, now: NOW });
      const cert = new x509.X509Certificate(rsaIssued.der);
      expect(cert.getExtension(x509.KeyUsagesExtension)!.usages).to.equal(KU.digitalSignature);
      const leaf = await writeTemp(dir, 'client-rsa.pem', rsaIssued.pem);
      const verdict = await verifyWithOpenssl({ caFile, leaf }, ['-purpose', 'sslclient']);
      expect(verdict.code, verdict.out).to.equal(0);
    });

    it('gives a P-384 key digitalSignature + keyAgreement', () => {
      const p384 = ecKey('P-384');
      const cert = new x509.X509Certificate(issueClientCertificate(issuer, { spki: spkiOf(p384), trustDomain: TRUST_DOMAIN, tee: 'snp', id: 'p384', claims, ttlSeconds, now: NOW }).der);
      expect(cert.getExtension(x509.KeyUsagesExtension)!.usages).to.equal(KU.digitalSignature | KU.keyAgreement);
      expect(sanNames(cert)).to.deep.equal([{ type: 'url', value: `spiffe://${TRUST_DOMAIN}/tee/snp/p384` }]);
    });

    it('accepts claims JSON of exactly 8 KiB and refuses claims over 8 KiB', () => {
      const base = sampleClaims({ tee_claims: { pad: '' } });
      const overhead = Buffer.byteLength(JSON.stringify(base), 'utf8');
      const fits = sampleClaims({ tee_claims: { pad: 'x'.repeat(8192 - overhead) } });
      expect(Buffer.byteLength(JSON.stringify(fits))).to.equal(8192);
      const ok = issueClientCertificate(issuer, { spki, trustDomain: TRUST_DOMAIN, tee: 'sample', id: 'big', claims: fits, ttlSeconds, now: NOW });
      expect(ok.der.length).to.be.greaterThan(8192);
      const tooBig = sampleClaims({ tee_claims: { pad: 'x'.repeat(8193 - overhead) } });
      expect(() => issueClientCertificate(issuer, { spki, trustDomain: TRUST_DOMAIN, tee: 'sample', id: 'big', claims: tooBig, ttlSeconds, now: NOW })).to.throw(/8192/);
      // the limit is on UTF-8 bytes, not characters
      const multibyte = sampleClaims({ tee_claims: { pad: 'é'.repeat(5000) } });
      expect(() => issueClientCertificate(issuer, { spki, trustDomain: TRUST_DOMAIN, tee: 'sample', id: 'big', claims: multibyte, ttlSeconds, now: NOW })).to.throw();
    });
  });

  describe('admin certificate', () => {
    let issued: IssuedCertificate & { spiffeId: string };
    let certificate: x509.X509Certificate;

    before(() => {
      issued = issueAdminCertificate(issuer, { spki: spkiOf(ecKey()), trustDomain: TRUST_DOMAIN, name: 'alice', ttlSeconds: 3600, now: NOW });
      certificate = new x509.X509Certificate(issued.der);
    });

    it('has exactly one SAN URI spiffe://<td>/admin/<name> and no claims extension', () => {
      expect(sanNames(certificate)).to.deep.equal([{ type: 'url', value: `spiffe://${TRUST_DOMAIN}/admin/alice` }]);
      expect(issued.spiffeId).to.equal(`spiffe://${TRUST_DOMAIN}/admin/alice`);
      expect(certificate.getExtension(OIDS.cmw)).to.equal(null);
      expect(nameAttributes(pkijs.Certificate.fromBER(issued.der).subject)).to.deep.equal([
        [OIDS.O, TRUST_DOMAIN, 'Utf8String'], [OIDS.CN, 'admin/alice', 'Utf8String'],
      ]);
    });

    it('is a clientAuth end-entity certificate signed by the issuer', async () => {
      expect(certificate.getExtension(x509.BasicConstraintsExtension)!.ca).to.equal(false);
      expect(certificate.getExtension(x509.BasicConstraintsExtension)!.critical).to.equal(true);
      expect(certificate.getExtension(x509.ExtendedKeyUsageExtension)!.usages).to.deep.equal([OIDS.clientAuth]);
      expect(certificate.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId).to.equal(keyIdentifier(issuer.signer.publicKeySpki).toString('hex'));
      expect(certificate.notAfter.getTime()).to.equal(NOW.getTime() + 3600_000);
      expect(certificate.notBefore.getTime()).to.equal(NOW.getTime() - 60_000);
      const leaf = await writeTemp(dir, 'admin.pem', issued.pem);
      const verdict = await verifyWithOpenssl({ caFile, leaf }, ['-purpose', 'sslclient']);
      expect(verdict.code, verdict.out).to.equal(0);
    });
  });

  describe('server certificate', () => {
    const dnsNames = ['localhost', 'broker.example'];
    const ipAddresses = ['127.0.0.1', '::1', '2001:db8::8:800:200c:417a', '10.1.2.3'];
    let issued: IssuedCertificate;
    let certificate: x509.X509Certificate;
    let leaf: string;

    before(async () => {
      issued = issueServerCertificate(root, { spki: spkiOf(ecKey()), trustDomain: TRUST_DOMAIN, dnsNames, ipAddresses, ttlSeconds: 30 * 86400, now: NOW });
      certificate = new x509.X509Certificate(issued.der);
      leaf = await writeTemp(dir, 'server.pem', issued.pem);
    });

    it('has DNS and IP SANs, IPs as 4 or 16 raw bytes', () => {
      const entries = rawSanEntries(certificate);
      expect(entries.map(([tag, bytes]) => [tag, bytes.toString('hex')])).to.deep.equal([
        [2, Buffer.from('localhost').toString('hex')],
        [2, Buffer.from('broker.example').toString('hex')],
        [7, '7f000001'],
        [7, '00000000000000000000000000000001'],
        [7, '20010db80000000000080800200c417a'],
        [7, '0a010203'],
      ]);
      expect(sanNames(certificate)).to.deep.include({ type: 'ip', value: '::1' });
      expect(sanNames(certificate)).to.deep.include({ type: 'ip', value: '127.0.0.1' });
    });

    it('encodes an IPv4-mapped IPv6 address (::ffff:a.b.c.d) as its 16 bytes', () => {
      const mapped = issueServerCertificate(root, { spki: spkiOf(ecKey()), trustDomain: TRUST_DOMAIN, dnsNames: [], ipAddresses: ['::ffff:192.0.2.1'], ttlSeconds: 3600, now: NOW });
      const entries = rawSanEntries(new x509.X509Certificate(mapped.der));
      expect(entries.map(([tag, bytes]) => [tag, bytes.toString('hex')])).to.deep.equal([[7, '00000000000000000000ffffc0000201']]);
    });

    it('is a serverAuth end-entity certificate signed by the root', () => {
      expect(certificate.getExtension(x509.ExtendedKeyUsageExtension)!.usages).to.deep.equal([OIDS.serverAuth]);
      expect(certificate.getExtension(x509.BasicConstraintsExtension)!.ca).to.equal(false);
      expect(certificate.getExtension(x509.KeyUsagesExtension)!.usages & KU.digitalSignature).to.equal(KU.digitalSignature);
      expect(certificate.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId).to.equal(keyIdentifier(root.signer.publicKeySpki).toString('hex'));
      expect(Buffer.from(pkijs.Certificate.fromBER(issued.der).issuer.valueBeforeDecode).equals(root.certificate.subjectName)).to.equal(true);
      expect(certificate.getExtension(OIDS.cmw)).to.equal(null);
      expect(nameAttributes(pkijs.Certificate.fromBER(issued.der).subject)).to.deep.equal([[OIDS.O, TRUST_DOMAIN, 'Utf8String'], [OIDS.CN, 'localhost', 'Utf8String']]);
    });

    it('passes openssl verify -purpose sslserver for its names and addresses, and fails for another name', async () => {
      for (const check of [['-verify_hostname', 'localhost'], ['-verify_hostname', 'broker.example'], ['-verify_ip', '127.0.0.1'], ['-verify_ip', '::1']]) {
        const verdict = await verifyWithOpenssl({ caFile: rootPemFile, leaf }, ['-purpose', 'sslserver', ...check]);
        expect(verdict.code, `${check.join(' ')}: ${verdict.out}`).to.equal(0);
      }
      const wrongHost = await verifyWithOpenssl({ caFile: rootPemFile, leaf }, ['-purpose', 'sslserver', '-verify_hostname', 'evil.example']);
      expect(wrongHost.code).to.not.equal(0);
      const wrongIp = await verifyWithOpenssl({ caFile: rootPemFile, leaf }, ['-purpose', 'sslserver', '-verify_ip', '127.0.0.2']);
      expect(wrongIp.code).to.not.equal(0);
    });

    it('never outlives the root', () => {
      const shortRoot = makeRoot({ ttlSeconds: 1000 });
      const capped = issueServerCertificate(shortRoot, { spki: spkiOf(ecKey()), trustDomain: TRUST_DOMAIN, dnsNames: ['localhost'], ipAddresses: [], ttlSeconds: 86400, now: NOW });
      expect(new x509.X509Certificate(capped.der).notAfter.getTime()).to.equal(shortRoot.certificate.notAfter.getTime());
    });
  });

  describe('root certificate', () => {
    it('is a self-signed CA with a path length constraint and keyCertSign + cRLSign, critical', async () => {
      const certificate = new x509.X509Certificate(root.issued.der);
      const pki = pkijs.Certificate.fromBER(root.issued.der);
      expect(pki.version).to.equal(2);
      expect(Buffer.from(pki.issuer.valueBeforeDecode).equals(Buffer.from(pki.subject.valueBeforeDecode))).to.equal(true);
      expect(await certificate.isSelfSigned()).to.equal(true);
      const basic = certificate.getExtension(x509.BasicConstraintsExtension)!;
      expect(basic.critical).to.equal(true);
      expect(basic.ca).to.equal(true);
      expect(basic.pathLength).to.be.a('number');
      expect(basic.pathLength).to.equal(1);
      const usage = certificate.getExtension(x509.KeyUsagesExtension)!;
      expect(usage.critical).to.equal(true);
      expect(usage.usages).to.equal(KU.keyCertSign | KU.cRLSign);
      expect(certificate.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId).to.equal(keyIdentifier(root.signer.publicKeySpki).toString('hex'));
      expect(nameAttributes(pki.subject)).to.deep.equal([[OIDS.O, TRUST_DOMAIN, 'Utf8String'], [OIDS.CN, 'keybroker root CA', 'Utf8String']]);
      expect(certificate.notBefore.getTime()).to.equal(NOW.getTime() - 60_000);
      expect(certificate.notAfter.getTime()).to.equal(NOW.getTime() + 10 * 365 * 86400 * 1000);
    });

    it('verifies as its own trust anchor in openssl', async () => {
      const verdict = await verifyWithOpenssl({ caFile: rootPemFile, leaf: rootPemFile });
      expect(verdict.code, verdict.out).to.equal(0);
    });

    it('can be made from Ed25519 and RSA keys too', async () => {
      for (const key of [generateKeyPairSync('ed25519').privateKey, rsa3072Key()]) {
        const signer = keyObjectSigner(key);
        const other = createRootCertificate(signer, { trustDomain: TRUST_DOMAIN, ttlSeconds: 86400, now: NOW });
        expect(await new x509.X509Certificate(other.der).isSelfSigned()).to.equal(true);
        const file = await writeTemp(dir, `root-${key.asymmetricKeyType}.pem`, other.pem);
        const verdict = await verifyWithOpenssl({ caFile: file, leaf: file });
        expect(verdict.code, verdict.out).to.equal(0);
      }
    });
  });

  describe('issuing CA certificate', () => {
    it('is a CA with pathlen 0 and keyCertSign, signed by the root', async () => {
      const certificate = new x509.X509Certificate(issuer.issued.der);
      const basic = certificate.getExtension(x509.BasicConstraintsExtension)!;
      expect(basic.critical).to.equal(true);
      expect(basic.ca).to.equal(true);
      expect(basic.pathLength).to.equal(0);
      const usage = certificate.getExtension(x509.KeyUsagesExtension)!;
      expect(usage.critical).to.equal(true);
      expect(usage.usages & KU.keyCertSign).to.equal(KU.keyCertSign);
      expect(usage.usages & KU.cRLSign).to.equal(KU.cRLSign);
      expect(certificate.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId).to.equal(keyIdentifier(root.signer.publicKeySpki).toString('hex'));
      expect(certificate.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId).to.equal(keyIdentifier(issuer.signer.publicKeySpki).toString('hex'));
      expect(await certificate.verify({ publicKey: new x509.X509Certificate(root.issued.der).publicKey, signatureOnly: true })).to.equal(true);
      expect(nameAttributes(pkijs.Certificate.fromBER(issuer.issued.der).subject)).to.deep.equal([[OIDS.O, TRUST_DOMAIN, 'Utf8String'], [OIDS.CN, 'keybroker issuing CA issuer-1', 'Utf8String']]);
      const file = await writeTemp(dir, 'issuer.pem', issuer.issued.pem);
      const verdict = await verifyWithOpenssl({ caFile: rootPemFile, leaf: file });
      expect(verdict.code, verdict.out).to.equal(0);
    });

    it('never outlives the root', () => {
      const shortRoot = makeRoot({ ttlSeconds: 5000 });
      const capped = makeIssuer(shortRoot, { ttlSeconds: 90 * 86400 });
      expect(capped.certificate.notAfter.getTime()).to.equal(shortRoot.certificate.notAfter.getTime());
    });

    it('cannot sign a further CA that openssl would accept (pathlen 0)', async () => {
      // A sub-CA of the issuer (issueIssuerCertificate signed by the issuer), and a leaf under it.
      const subAuthority = makeIssuer(issuer, { id: 'sub' });
      const leafIssued = issueClientCertificate(subAuthority, { spki: spkiOf(ecKey()), trustDomain: TRUST_DOMAIN, tee: 'sample', id: 'deep', claims: sampleClaims(), ttlSeconds: 600, now: NOW });
      const untrusted = await writeTemp(dir, 'sub-chain.pem', issuer.issued.pem + subAuthority.issued.pem);
      const leaf = await writeTemp(dir, 'deep-leaf.pem', leafIssued.pem);
      const verdict = await verifyWithOpenssl({ caFile: rootPemFile, untrusted, leaf });
      expect(verdict.code, 'path length exceeded must fail').to.not.equal(0);
      expect(verdict.out).to.match(/path length/i);
    });
  });
});
