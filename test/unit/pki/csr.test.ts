import { expect } from 'chai';
import * as pkijs from 'pkijs';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCsr, generateClientKey } from '../../../src/pki/create-csr.js';
import { verifyCsr } from '../../../src/pki/csr.js';
import { derToPem, pemToDer } from '../../../src/pki/pem.js';
import { objectIdentifier, readChildren, readElement, sequence, tlv } from '../../../src/pki/der.js';
import { KbsError } from '../../../src/domain/errors.js';
import { ecKey, errorCodeOf, makeRoot, makeTempDir, openssl, removeDir, rsa3072Key, spkiOf, writeTemp } from './helpers.js';

async function opensslCsr(dir: string, key: KeyObject, name: string, extra: string[] = []): Promise<string> {
  const keyFile = await writeTemp(dir, `${name}.key`, key.export({ type: 'pkcs8', format: 'pem' }).toString());
  const out = join(dir, `${name}.csr`);
  const result = await openssl(['req', '-new', '-key', keyFile, '-subj', '/CN=tee', '-out', out, ...extra]);
  expect(result.code, result.stderr).to.equal(0);
  return readFile(out, 'utf8');
}

/** The CSR with the byte of its DER at `offset(der)` xor-ed with 0x01. */
function flipByte(pem: string, offset: (der: Buffer) => number): string {
  const der = Buffer.from(pemToDer(pem, 'CERTIFICATE REQUEST')!);
  der[offset(der)]! ^= 0x01;
  return derToPem(der, 'CERTIFICATE REQUEST');
}

describe('pki/csr', function () {
  this.timeout(20_000);
  let dir: string;

  before(async () => {
    dir = await makeTempDir('csr');
  });

  after(async () => {
    await removeDir(dir);
  });

  describe('accepted keys (createCsr → verifyCsr)', () => {
    const cases: [string, () => KeyObject, string][] = [
      ['ECDSA P-256', () => ecKey('P-256'), 'ec-p256'],
      ['ECDSA P-384', () => ecKey('P-384'), 'ec-p384'],
      ['Ed25519', () => generateKeyPairSync('ed25519').privateKey, 'ed25519'],
      ['RSA-3072', rsa3072Key, 'rsa'],
    ];
    for (const [label, makeKey, keyType] of cases) {
      it(`accepts ${label}; spki equals the key's SPKI DER`, () => {
        const key = makeKey();
        const csr = createCsr(key);
        expect(csr.pem).to.match(/^-----BEGIN CERTIFICATE REQUEST-----\n/);
        expect(csr.spki.equals(spkiOf(key))).to.equal(true);
        const verified = verifyCsr(csr.pem);
        expect(verified.spki.equals(spkiOf(key))).to.equal(true);
        expect(verified.keyType).to.equal(keyType);
        expect(verified.publicKey.type).to.equal('public');
        expect(verified.publicKey.export({ type: 'spki', format: 'der' }).equals(spkiOf(key))).to.equal(true);
      });
    }

    it('generateClientKey makes keys of each advertised type that verifyCsr accepts', () => {
      for (const type of ['ec-p256', 'ec-p384', 'ed25519'] as const) {
        const key = generateClientKey(type);
        expect(verifyCsr(createCsr(key).pem).spki.equals(spkiOf(key))).to.equal(true);
      }
      expect(generateClientKey().asymmetricKeyDetails?.namedCurve).to.equal('prime256v1');
    });

    it('produces a CSR that openssl req -verify accepts', async () => {
      const file = await writeTemp(dir, 'ours.csr', createCsr(ecKey(), 'my tee').pem);
      const result = await openssl(['req', '-in', file, '-noout', '-verify', '-subject']);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout + result.stderr).to.match(/verify OK/i);
      expect(result.stdout).to.contain('CN = my tee');
    });

    it('verifies a CSR read from text with other PEM blocks around it', () => {
      const key = ecKey();
      const text = `${derToPem(Buffer.from('x'), 'PRIVATE KEY')}junk\n${createCsr(key).pem}`;
      expect(verifyCsr(text).spki.equals(spkiOf(key))).to.equal(true);
    });
  });

  describe('CSRs made by openssl req -new', () => {
    it('accepts P-256, P-384 (with SHA-384 and SHA-512), Ed25519 and RSA-3072', async () => {
      const keys: [string, KeyObject, string[]][] = [
        ['p256', ecKey('P-256'), []],
        ['p384', ecKey('P-384'), ['-sha384']],
        ['p384-512', ecKey('P-384'), ['-sha512']],
        ['ed25519', generateKeyPairSync('ed25519').privateKey, []],
        ['rsa3072', rsa3072Key(), ['-sha256']],
        ['rsa3072-384', rsa3072Key(), ['-sha384']],
      ];
      for (const [name, key, extra] of keys) {
        const pem = await opensslCsr(dir, key, name, extra);
        const verified = verifyCsr(pem);
        expect(verified.spki.equals(spkiOf(key)), name).to.equal(true);
      }
    });

    it('refuses an RSA-3072 CSR signed with SHA-1', async () => {
      const pem = await opensslCsr(dir, rsa3072Key(), 'rsa-sha1', ['-sha1']);
      expect(await errorCodeOf(() => verifyCsr(pem))).to.equal('bad-csr');
    });

    it('refuses Ed448 and P-521 keys', async () => {
      for (const [name, key] of [['ed448', generateKeyPairSync('ed448').privateKey], ['p521', generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey]] as const) {
        const pem = await opensslCsr(dir, key, name);
        expect(await errorCodeOf(() => verifyCsr(pem)), name).to.equal('bad-csr');
      }
    });
  });

  describe('refused keys', () => {
    it('refuses RSA-2048 with bad-csr (400)', async () => {
      const pem = createCsr(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey).pem;
      let thrown: unknown;
      try {
        verifyCsr(pem);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).to.be.instanceOf(KbsError);
      expect((thrown as KbsError).code).to.equal('bad-csr');
      expect((thrown as KbsError).status).to.equal(400);
    });

    it('refuses secp256k1 with bad-csr', async () => {
      const pem = createCsr(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey).pem;
      expect(await errorCodeOf(() => verifyCsr(pem))).to.equal('bad-csr');
    });
  });

  describe('proof of possession', () => {
    for (const [label, makeKey] of [['P-256', () => ecKey()], ['Ed25519', () => generateKeyPairSync('ed25519').privateKey], ['RSA-3072', rsa3072Key]] as [string, () => KeyObject][]) {
      it(`refuses a ${label} CSR with a flipped signature byte`, async () => {
        const pem = createCsr(makeKey()).pem;
        expect(() => verifyCsr(pem)).to.not.throw();
        expect(await errorCodeOf(() => verifyCsr(flipByte(pem, (der) => der.length - 1)))).to.equal('bad-csr');
        expect(await errorCodeOf(() => verifyCsr(flipByte(pem, (der) => der.length - 10)))).to.equal('bad-csr');
      });
    }

    it('refuses a CSR whose signed content (the subject) was changed', async () => {
      const pem = createCsr(ecKey(), 'AAAA').pem;
      const tampered = flipByte(pem, (der) => der.indexOf(Buffer.from('AAAA')));
      expect(await errorCodeOf(() => verifyCsr(tampered))).to.equal('bad-csr');
    });

    it('refuses a CSR whose key was swapped for another one (signature by the first key)', async () => {
      const first = createCsr(ecKey());
      const other = spkiOf(ecKey());
      const der = Buffer.from(pemToDer(first.pem, 'CERTIFICATE REQUEST')!);
      const at = der.indexOf(first.spki);
      expect(at).to.be.greaterThan(0);
      other.copy(der, at);
      expect(await errorCodeOf(() => verifyCsr(derToPem(der, 'CERTIFICATE REQUEST')))).to.equal('bad-csr');
    });

    for (const curve of ['P-256', 'P-384'] as const) {
      it(`refuses a ${curve} CSR whose point is not on the curve, with bad-csr`, async () => {
        const csr = createCsr(generateKeyPairSync('ec', { namedCurve: curve }).privateKey);
        const der = Buffer.from(pemToDer(csr.pem, 'CERTIFICATE REQUEST')!);
        const at = der.indexOf(csr.spki);
        // The last byte of y, off by one: the point leaves the curve, the SPKI keeps its shape.
        der[at + csr.spki.length - 1]! ^= 0x01;
        expect(() => verifyCsr(derToPem(der, 'CERTIFICATE REQUEST'))).to.throw(KbsError, 'CSR public key cannot be read');
      });
    }

    it('refuses a CSR signed by a different key than the one it carries', async () => {
      const carried = ecKey();
      const signing = ecKey();
      // The CertificationRequestInfo carries `carried`, the signature comes from a CSR signed by `signing`.
      const request = pkijs.CertificationRequest.fromBER(pemToDer(createCsr(carried).pem, 'CERTIFICATE REQUEST')!);
      const signed = pkijs.CertificationRequest.fromBER(pemToDer(createCsr(signing).pem, 'CERTIFICATE REQUEST')!);
      request.signatureValue = signed.signatureValue;
      const der = Buffer.from(request.toSchema(true).toBER());
      expect(createPublicKey({ key: Buffer.from(request.subjectPublicKeyInfo.toSchema().toBER()), format: 'der', type: 'spki' }).equals(createPublicKey(carried))).to.equal(true);
      expect(await errorCodeOf(() => verifyCsr(derToPem(der, 'CERTIFICATE REQUEST')))).to.equal('bad-csr');
    });
  });

  describe('signature algorithm', () => {
    /** The CSR with its signatureAlgorithm replaced, the signature bytes kept. */
    function withAlgorithm(pem: string, algorithm: Buffer): string {
      const der = pemToDer(pem, 'CERTIFICATE REQUEST')!;
      const [info, , signature] = readChildren(der, readElement(der, 0));
      return derToPem(sequence(der.subarray(info!.start, info!.end), algorithm, der.subarray(signature!.start, signature!.end)), 'CERTIFICATE REQUEST');
    }

    it('still verifies when the algorithm is rewritten to itself (the rewriting is sound)', () => {
      const key = rsa3072Key();
      const pem = withAlgorithm(createCsr(key).pem, sequence(objectIdentifier('1.2.840.113549.1.1.11'), tlv(0x05)));
      expect(verifyCsr(pem).spki.equals(spkiOf(key))).to.equal(true);
    });

    it('refuses an algorithm it does not accept (sha1WithRSAEncryption over a SHA-256 signature)', async () => {
      const pem = withAlgorithm(createCsr(rsa3072Key()).pem, sequence(objectIdentifier('1.2.840.113549.1.1.5'), tlv(0x05)));
      expect(await errorCodeOf(() => verifyCsr(pem))).to.equal('bad-csr');
    });

    it('refuses a signature algorithm that does not belong to the key type (RSA key, ecdsa-with-SHA256)', async () => {
      const pem = withAlgorithm(createCsr(rsa3072Key()).pem, sequence(objectIdentifier('1.2.840.10045.4.3.2')));
      expect(await errorCodeOf(() => verifyCsr(pem))).to.equal('bad-csr');
    });
  });

  describe('malformed input', () => {
    const cases: [string, string][] = [
      ['empty text', ''],
      ['text without PEM', 'hello, world'],
      ['garbage in the PEM body', '-----BEGIN CERTIFICATE REQUEST-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE REQUEST-----\n'],
      ['non-base64 in the PEM body', '-----BEGIN CERTIFICATE REQUEST-----\n!!!!\n-----END CERTIFICATE REQUEST-----\n'],
      ['an empty PEM body', '-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n'],
      ['mismatched BEGIN/END labels', '-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE-----\n'],
    ];
    for (const [label, text] of cases) {
      it(`refuses ${label} with bad-csr`, async () => {
        expect(await errorCodeOf(() => verifyCsr(text))).to.equal('bad-csr');
      });
    }

    it('refuses a valid CSR under a wrong PEM label', async () => {
      const der = pemToDer(createCsr(ecKey()).pem, 'CERTIFICATE REQUEST')!;
      for (const label of ['CERTIFICATE', 'NEW CERTIFICATE REQUEST', 'PUBLIC KEY']) {
        expect(await errorCodeOf(() => verifyCsr(derToPem(der, label))), label).to.equal('bad-csr');
      }
    });

    it('refuses a certificate put under the CERTIFICATE REQUEST label', async () => {
      const root = makeRoot();
      expect(await errorCodeOf(() => verifyCsr(derToPem(root.issued.der, 'CERTIFICATE REQUEST')))).to.equal('bad-csr');
    });

    it('refuses a CSR with bytes after its DER', async () => {
      const der = pemToDer(createCsr(ecKey()).pem, 'CERTIFICATE REQUEST')!;
      expect(await errorCodeOf(() => verifyCsr(derToPem(Buffer.concat([der, Buffer.from([0])]), 'CERTIFICATE REQUEST')))).to.equal('bad-csr');
    });

    it('refuses a truncated CSR', async () => {
      const der = pemToDer(createCsr(ecKey()).pem, 'CERTIFICATE REQUEST')!;
      for (const length of [1, 10, Math.floor(der.length / 2), der.length - 1]) {
        expect(await errorCodeOf(() => verifyCsr(derToPem(der.subarray(0, length), 'CERTIFICATE REQUEST'))), `length ${length}`).to.equal('bad-csr');
      }
    });
  });
});
