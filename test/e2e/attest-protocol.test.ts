/**
 * PROTOCOL.md 1.1 to 1.3 from the text: a client written here (helpers/v1-protocol.ts), not src/client.
 */
import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import { expect } from 'chai';
import type { BrokerProcess } from './helpers/broker-process.js';
import { expectProblem, postJson, send } from './helpers/https-client.js';
import { sharedAdmin, sharedBroker } from './helpers/shared-broker.js';
import {
  attestBody, attestNew, challenge, createCsr, generateTeeKey, pemBlocks, postAttest, randomResourcePath, reportData, sampleEvidence,
  type AttestResponse, type KeyType, type TeeKey,
} from './helpers/v1-protocol.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;
const NONCE = /^[A-Za-z0-9_-]{43,512}$/;
const SPIFFE_SAMPLE = /^spiffe:\/\/keybroker\.local\/tee\/sample\/([0-9a-f]{16})$/;

describe('e2e: v1 attestation protocol (PROTOCOL.md 1.1-1.3)', function () {
  let broker: BrokerProcess;

  before(async function () {
    broker = await sharedBroker();
  });

  it('POST /kbs/v1/challenge {"tee":"sample"} answers a nonce and an RFC 3339 expiry about 300 s ahead', async function () {
    const before = Date.now();
    const reply = await postJson(broker, '/kbs/v1/challenge', { tee: 'sample' });
    expect(reply.status, reply.text()).to.equal(200);
    expect(String(reply.headers['content-type'])).to.match(/^application\/json/);
    const body = reply.json<{ nonce: string; expires_at: string }>();
    expect(body.nonce).to.match(NONCE);
    expect(body.expires_at).to.match(RFC3339);
    const expires = Date.parse(body.expires_at);
    expect(expires).to.be.within(before + 290_000, Date.now() + 301_000);
    const other = await challenge(broker);
    expect(other.nonce, 'two challenges give the same nonce').not.to.equal(body.nonce);
  });

  it('POST /kbs/v1/attest with a P-256 CSR and bound sample evidence answers 201 with a certificate', async function () {
    const key = await generateTeeKey('ec-p256');
    const { nonce } = await challenge(broker);
    const csr = await createCsr(key);
    const evidence = { svn: '1', report_data: reportData(nonce, key.spki).toString('base64') };
    expect(evidence.report_data).to.match(/^[A-Za-z0-9+/]{86}==$/);
    const reply = await postJson(broker, '/kbs/v1/attest', { nonce, csr, evidence, unknown_field: 'ignored' });
    expect(reply.status, reply.text()).to.equal(201);
    expect(String(reply.headers['content-type'])).to.match(/^application\/json/);
    const body = reply.json<AttestResponse>();
    expect(body.certificate).to.match(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n?$/);
    expect(pemBlocks(body.certificate)).to.have.lengthOf(1);
    expect(pemBlocks(body.chain).length).to.be.at.least(1);
    const match = SPIFFE_SAMPLE.exec(body.spiffe_id);
    expect(match, body.spiffe_id).to.not.equal(null);
    // sample without a measurement: <id> is the first 16 hex digits of SHA-256 of the SPKI (1.4).
    expect(match![1]).to.equal(createHash('sha256').update(key.spki).digest('hex').slice(0, 16));
    expect(body.serial).to.match(/^[0-9a-fA-F]+$/);
    expect(body.expires_at).to.match(RFC3339);
    const leaf = new X509Certificate(body.certificate);
    expect(BigInt(`0x${body.serial}`)).to.equal(BigInt(`0x${leaf.serialNumber}`));
    expect(Math.abs(Date.parse(body.expires_at) - Date.parse(leaf.validTo))).to.be.below(1000);
    expect(leaf.publicKey.export({ type: 'spki', format: 'der' }).equals(key.spki), 'certificate carries the CSR key').to.equal(true);
    expect(leaf.verify(new X509Certificate(pemBlocks(body.chain)[0]!).publicKey), 'leaf signed by the first chain certificate').to.equal(true);
    expect(body.claims).to.include({ v: 1, tee: 'sample', status: 'affirming' });
  });

  it('with Accept: application/pem-certificate-chain the body is the PEM leaf then the chain, nothing else', async function () {
    const key = await generateTeeKey('ec-p256');
    const { nonce } = await challenge(broker);
    const reply = await postAttest(broker, await attestBody(nonce, key), { accept: 'application/pem-certificate-chain' });
    expect(reply.status, reply.text()).to.equal(201);
    expect(String(reply.headers['content-type'])).to.match(/^application\/pem-certificate-chain/);
    const text = reply.text();
    expect(text.replace(/-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n?/g, '').trim(), 'only PEM certificates').to.equal('');
    const blocks = pemBlocks(text);
    expect(blocks.length).to.be.at.least(2);
    const leaf = new X509Certificate(blocks[0]!);
    expect(leaf.publicKey.export({ type: 'spki', format: 'der' }).equals(key.spki), 'first block is the leaf').to.equal(true);
    expect(leaf.verify(new X509Certificate(blocks[1]!).publicKey), 'second block issued the leaf').to.equal(true);
  });

  for (const type of ['ec-p384', 'ed25519', 'rsa-3072'] as const satisfies readonly KeyType[]) {
    it(`attests a ${type} key, and the certificate fetches a resource over mutual TLS`, async function () {
      const { key, response, credential } = await attestNew(broker, type);
      const leaf = new X509Certificate(response.certificate);
      expect(leaf.publicKey.export({ type: 'spki', format: 'der' }).equals(key.spki)).to.equal(true);
      expect(response.spiffe_id).to.match(SPIFFE_SAMPLE);

      const admin = await sharedAdmin();
      const path = randomResourcePath();
      const value = Buffer.from(`value for ${type}`);
      expect((await send(broker, { method: 'PUT', path: `/kbs/v1/admin/resource/${path}`, body: value, credential: admin })).status).to.equal(201);
      const got = await send(broker, { path: `/kbs/v1/resource/${path}`, credential });
      expect(got.status, got.text()).to.equal(200);
      expect(got.body.equals(value)).to.equal(true);
    });
  }

  it('refuses an RSA 2048 key: 400 bad-csr', async function () {
    const key = await generateTeeKey('rsa-2048');
    const { nonce } = await challenge(broker);
    expectProblem(await postAttest(broker, await attestBody(nonce, key)), 400, 'bad-csr', broker.home);
  });

  it('refuses an ECDSA P-521 key: 400 bad-csr', async function () {
    const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-521' }, true, ['sign', 'verify']);
    const key: TeeKey = {
      type: 'ec-p256', keys, spki: Buffer.from(await webcrypto.subtle.exportKey('spki', keys.publicKey)), privateKeyPem: '',
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-512' },
    };
    const { nonce } = await challenge(broker);
    expectProblem(await postAttest(broker, await attestBody(nonce, key)), 400, 'bad-csr', broker.home);
  });

  it('accepts a 32-byte report_data (the first half of the binding), as for TEEs with a 32-byte field', async function () {
    const key = await generateTeeKey('ec-p256');
    const { nonce } = await challenge(broker);
    const body = await attestBody(nonce, key, { evidence: sampleEvidence(reportData(nonce, key.spki).subarray(0, 32)) });
    const reply = await postAttest(broker, body);
    expect(reply.status, reply.text()).to.equal(201);
  });

  it('takes a measurement from sample evidence as the measurement claim and derives <id> from it', async function () {
    const key = await generateTeeKey('ec-p256');
    const { nonce } = await challenge(broker);
    const measurement = 'ab'.repeat(48);
    const reply = await postAttest(broker, await attestBody(nonce, key, { evidence: sampleEvidence(reportData(nonce, key.spki), { measurement }) }));
    expect(reply.status, reply.text()).to.equal(201);
    const body = reply.json<AttestResponse>();
    expect(body.claims.measurement).to.equal(measurement);
    const id = createHash('sha256').update(Buffer.from(measurement, 'hex')).digest('hex').slice(0, 16);
    expect(body.spiffe_id).to.equal(`spiffe://keybroker.local/tee/sample/${id}`);
  });
});
