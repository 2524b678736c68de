/**
 * Conformance to PROTOCOL.md 1.1 to 1.4 against the shared default broker: keys and CSRs made by the real
 * `openssl`, the certificate read back with `openssl x509 -text` and node:crypto. Complements
 * test/e2e/attest-protocol.test.ts, rejections.test.ts and certificate-profile.test.ts.
 */
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { expect } from 'chai';
import type { BrokerProcess } from '../helpers/broker-process.js';
import { describeResult, runOpenssl } from '../helpers/run-command.js';
import { sharedBroker } from '../helpers/shared-broker.js';
import {
  assertProblem, attestSample, callJson, certificatesIn, describe1, jsonOf, makeTeeKey, newNonce, sampleEvidenceFor, Scratch, type Attested,
} from './wire.js';

const SECONDS_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** A nonce-shaped string the server never issued. */
const forgedNonce = (): string => randomBytes(48).toString('base64url');

describe('conformance: 1.1 to 1.4 (default configuration)', function () {
  let broker: BrokerProcess;
  const scratch = new Scratch();
  const attest = (body: unknown, headers: Record<string, string> = {}) => callJson(broker, '/kbs/v1/attest', body, { headers });

  before(async function () {
    broker = await sharedBroker();
  });

  after(function () {
    scratch.release();
  });

  describe('1.1 challenge', function () {
    it('expires_at is whole seconds in UTC ("...T10:00:00Z") and 300 s after the answer', async function () {
      const sent = Math.floor(Date.now() / 1000);
      const exchange = await callJson(broker, '/kbs/v1/challenge', { tee: 'sample' });
      const received = Math.ceil(Date.now() / 1000);
      const body = jsonOf<{ nonce: string; expires_at: string }>(exchange);
      expect(body.expires_at).to.match(SECONDS_Z);
      expect(Date.parse(body.expires_at) / 1000).to.be.within(sent + 299, received + 300);
      expect(body.nonce).to.match(/^[A-Za-z0-9_-]{43,512}$/);
    });

    it('"verifier" may name the configured verifier of the TEE (the one the claims report); an unknown one is 400', async function () {
      const { body } = await attestSample(broker, scratch);
      const named = await callJson(broker, '/kbs/v1/challenge', { tee: 'sample', verifier: body.claims.verifier });
      expect(named.status, describe1(named)).to.equal(200);
      assertProblem(await callJson(broker, '/kbs/v1/challenge', { tee: 'sample', verifier: 'no-such-verifier' }), 400, 'bad-request');
    });

    it('an unknown TEE name of any length is 400 unsupported-tee, its detail not echoing the whole name', async function () {
      const name = `tee-${'x'.repeat(1000)}`;
      const exchange = await callJson(broker, '/kbs/v1/challenge', { tee: name });
      assertProblem(exchange, 400, 'unsupported-tee');
      expect(exchange.body.toString('utf8')).not.to.include(name);
    });

    it('a TEE name that is not a string (an array, null) is 400 bad-request', async function () {
      assertProblem(await callJson(broker, '/kbs/v1/challenge', { tee: ['sample'] }), 400, 'bad-request');
      assertProblem(await callJson(broker, '/kbs/v1/challenge', { tee: null }), 400, 'bad-request');
    });
  });

  describe('1.3 attest: the order of checks', function () {
    it('body shape before nonce: a forged nonce with evidence and token both is 400, with a bad init_data 400', async function () {
      const tee = await makeTeeKey(scratch);
      const nonce = forgedNonce();
      const evidence = sampleEvidenceFor(nonce, tee.spki);
      assertProblem(await attest({ nonce, csr: tee.csrPem, evidence, token: 'a.b.c' }), 400, 'bad-request');
      assertProblem(await attest({ nonce, csr: tee.csrPem, evidence, init_data: 'not an object' }), 400, 'bad-request');
    });

    it('nonce before CSR: a forged nonce with a CSR of a refused key type is 401 nonce-invalid', async function () {
      const tee = await makeTeeKey(scratch, 'P-521');
      const nonce = forgedNonce();
      assertProblem(await attest({ nonce, csr: tee.csrPem, evidence: sampleEvidenceFor(nonce, tee.spki) }), 401, 'nonce-invalid');
    });

    it('a nonce-shaped string over 512 characters is a forged nonce: 401 nonce-invalid', async function () {
      const tee = await makeTeeKey(scratch);
      const nonce = randomBytes(400).toString('base64url');
      expect(nonce.length).to.be.above(512);
      assertProblem(await attest({ nonce, csr: tee.csrPem, evidence: sampleEvidenceFor(nonce, tee.spki) }), 401, 'nonce-invalid');
    });

    it('CSR before evidence: a refused key type with evidence of the wrong shape is 400 bad-csr, and the nonce stays usable', async function () {
      const refused = await makeTeeKey(scratch, 'P-521');
      const nonce = await newNonce(broker);
      assertProblem(await attest({ nonce, csr: refused.csrPem, evidence: { wrong: true } }), 400, 'bad-csr');
      const tee = await makeTeeKey(scratch);
      const ok = await attest({ nonce, csr: tee.csrPem, evidence: sampleEvidenceFor(nonce, tee.spki) });
      expect(ok.status, describe1(ok)).to.equal(201);
    });

    it('evidence before binding: evidence of the wrong shape is 400 bad-evidence-format even when nothing binds', async function () {
      const tee = await makeTeeKey(scratch);
      const nonce = await newNonce(broker);
      assertProblem(await attest({ nonce, csr: tee.csrPem, evidence: { svn: '1' } }), 400, 'bad-evidence-format');
    });

    it('binding: report_data bound to another nonce is 403 binding-mismatch', async function () {
      const tee = await makeTeeKey(scratch);
      const nonce = await newNonce(broker);
      const other = await newNonce(broker);
      assertProblem(await attest({ nonce, csr: tee.csrPem, evidence: sampleEvidenceFor(other, tee.spki) }), 403, 'binding-mismatch');
    });

    it('init_data {"format":"toml","body":...} is accepted and its digest becomes the init_data claim', async function () {
      const tee = await makeTeeKey(scratch);
      const nonce = await newNonce(broker);
      const initData = { format: 'toml', body: 'algorithm = "sha384"\nversion = "0.1.0"\n' };
      const exchange = await attest({ nonce, csr: tee.csrPem, evidence: sampleEvidenceFor(nonce, tee.spki), init_data: initData });
      expect(exchange.status, describe1(exchange)).to.equal(201);
      expect(jsonOf<{ claims: { init_data: string } }>(exchange).claims.init_data).to.match(/^[0-9a-f]+$/);
    });
  });

  describe('1.3 attest: the 201 answer', function () {
    let attested: Attested;
    let leaf: X509Certificate;
    let chain: X509Certificate[];

    before(async function () {
      attested = await attestSample(broker, scratch);
      leaf = new X509Certificate(attested.body.certificate);
      chain = certificatesIn(attested.body.chain).map((pem) => new X509Certificate(pem));
    });

    it('holds exactly certificate, chain, spiffe_id, serial, expires_at and claims', function () {
      expect(attested.body).to.have.all.keys('certificate', 'chain', 'spiffe_id', 'serial', 'expires_at', 'claims');
      expect(certificatesIn(attested.body.certificate)).to.have.lengthOf(1);
      expect(attested.body.expires_at).to.match(SECONDS_Z);
      expect(attested.body.serial).to.match(/^[0-9a-f]+$/i);
    });

    it('chain holds issuing CA certificates, the first of which signed the leaf', function () {
      expect(chain.length).to.be.at.least(1);
      expect(chain.every((certificate) => certificate.ca)).to.equal(true);
      expect(leaf.checkIssued(chain[0]!) && leaf.verify(chain[0]!.publicKey)).to.equal(true);
    });

    it('claims carry the normalized fields of 1.4', function () {
      const claims = attested.body.claims;
      expect(claims).to.include.all.keys('v', 'tee', 'verifier', 'status', 'tcb_status', 'trust_vector', 'tee_claims', 'iat');
      expect(claims.trust_vector).to.have.all.keys('hardware', 'executables', 'configuration');
      expect(claims.tee).to.equal('sample');
    });

    it('two attests of one key get different random serials', async function () {
      const nonce = await newNonce(broker);
      const again = await attest({ nonce, csr: attested.tee.csrPem, evidence: sampleEvidenceFor(nonce, attested.tee.spki) });
      expect(again.status, describe1(again)).to.equal(201);
      const serial = jsonOf<{ serial: string; spiffe_id: string }>(again);
      expect(BigInt(`0x${serial.serial}`)).not.to.equal(BigInt(`0x${attested.body.serial}`));
      expect(serial.spiffe_id, 'same key, same sample id').to.equal(attested.body.spiffe_id);
    });
  });

  describe('1.2 key types, CSRs from openssl', function () {
    for (const type of ['P-384', 'Ed25519'] as const) {
      it(`a ${type} key gets a certificate for that key`, async function () {
        const { tee, body } = await attestSample(broker, scratch, type);
        const leaf = new X509Certificate(body.certificate);
        expect(leaf.publicKey.export({ type: 'spki', format: 'der' }).equals(tee.spki)).to.equal(true);
      });
    }
  });

  describe('1.2 key types outside the list: 400 bad-csr', function () {
    it('an Ed448 key and an RSA 4096 key are told apart: Ed448 400 bad-csr, RSA 4096 (3072+) 201', async function () {
      const refused = await makeTeeKey(scratch, 'Ed448');
      const nonce = await newNonce(broker);
      assertProblem(await attest({ nonce, csr: refused.csrPem, evidence: sampleEvidenceFor(nonce, refused.spki) }), 400, 'bad-csr');
      const { tee, body } = await attestSample(broker, scratch, 'RSA-4096');
      expect(new X509Certificate(body.certificate).publicKey.export({ type: 'spki', format: 'der' }).equals(tee.spki)).to.equal(true);
    });
  });

  describe('1.4 profile as the real `openssl x509 -text` prints it', function () {
    let attested: Attested;
    let text: string;

    before(async function () {
      attested = await attestSample(broker, scratch);
      const file = scratch.file('leaf.pem');
      writeFileSync(file, attested.body.certificate);
      const result = await runOpenssl(['x509', '-in', file, '-noout', '-text', '-nameopt', 'oneline']);
      expect(result.code, describeResult(result)).to.equal(0);
      text = result.stdout.toString('utf8');
    });

    it('Version 3, subject O=keybroker.local then CN=sample/<first 16 hex of SHA-256(SPKI)>', function () {
      const id = createHash('sha256').update(attested.tee.spki).digest('hex').slice(0, 16);
      expect(text).to.match(/Version: 3 \(0x2\)/);
      expect(text).to.match(new RegExp(`Subject: O = keybroker\\.local, CN = sample/${id}\\n`));
      expect(attested.body.spiffe_id).to.equal(`spiffe://keybroker.local/tee/sample/${id}`);
    });

    it('critical BasicConstraints CA:FALSE, critical KeyUsage Digital Signature + Key Agreement, EKU clientAuth only', function () {
      expect(text).to.match(/X509v3 Basic Constraints: critical\n\s+CA:FALSE\n/);
      expect(text).to.match(/X509v3 Key Usage: critical\n\s+Digital Signature, Key Agreement\n/);
      expect(text).to.match(/X509v3 Extended Key Usage: ?\n\s+TLS Web Client Authentication\n/);
      expect(text).to.match(/X509v3 Subject Key Identifier: ?\n\s+[0-9A-F:]+\n/);
      expect(text).to.match(/X509v3 Authority Key Identifier: ?\n\s+(keyid:)?[0-9A-F:]+\n/);
    });

    it('SubjectAltName: exactly one URI, the spiffe_id; extension 1.3.6.1.5.5.7.1.35 is present and not critical', function () {
      const san = /X509v3 Subject Alternative Name: ?(critical)?\n\s+(.+)\n/.exec(text);
      expect(san, text).to.not.equal(null);
      expect(san![2]).to.equal(`URI:${attested.body.spiffe_id}`);
      expect(text).to.match(/1\.3\.6\.1\.5\.5\.7\.1\.35: ?\n/);
      expect(text).not.to.match(/1\.3\.6\.1\.5\.5\.7\.1\.35: critical/);
    });

    it('openssl verifies the leaf against the broker bundle for purpose sslclient', async function () {
      const leafFile = scratch.file('verify-leaf.pem');
      writeFileSync(leafFile, attested.body.certificate);
      const result = await runOpenssl(['verify', '-CAfile', broker.bundlePath, '-purpose', 'sslclient', leafFile]);
      expect(result.code, describeResult(result)).to.equal(0);
    });
  });
});
