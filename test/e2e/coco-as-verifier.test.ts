/**
 * A `[[verifier]]` table of type coco-as in a real `keybroker serve --dev` process, against the loopback CoCo AS
 * stand-in: trusted_certs, tls_ca_file and policy_ids are read from the file, a `builtin` table keeps the sample TEE
 * on the in-process verifier, and both modes issue certificates naming the service; a broken table stops the start.
 */
import { createPublicKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { cocoEvidence, startCocoAsStandIn, type CocoAsStandIn } from '../helpers/coco-as-standin.js';
import { makeTempDir, removeTempDir, startBroker, type BrokerProcess } from './helpers/broker-process.js';
import type { Target } from './helpers/https-client.js';
import { attestBody, challenge, createCsr, generateTeeKey, postAttest, type AttestResponse } from './helpers/v1-protocol.js';

describe('e2e: CoCo AS configured as a [[verifier]] table', function () {
  this.timeout(60_000);
  let coco: CocoAsStandIn;
  let broker: BrokerProcess;
  let target: Target;
  let dir: string;
  const measurement = Buffer.alloc(48, 0x11);

  const runtimeData = (nonce: string, spki: Buffer) => ({ nonce, 'tee-pubkey': createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ format: 'jwk' }) });

  before(async () => {
    coco = await startCocoAsStandIn();
    dir = makeTempDir('keybroker-e2e-coco-');
    writeFileSync(join(dir, 'as-tls.pem'), coco.service.tlsCertificatePem);
    writeFileSync(join(dir, 'as-token-ca.pem'), coco.ca.pem);
    broker = await startBroker({
      toml: [
        '[[verifier]]', 'name = "builtin"', 'type = "builtin"', 'tees = ["sample"]', '',
        '[[verifier]]', 'name = "coco"', 'type = "coco-as"', 'tees = ["snp"]', `url = "${coco.service.url}"`,
        `trusted_certs = ["${join(dir, 'as-token-ca.pem')}"]`, `tls_ca_file = "${join(dir, 'as-tls.pem')}"`, 'policy_ids = ["kbs-policy"]', 'timeout_ms = 3000', '',
      ].join('\n'),
    });
    target = { port: broker.port, bundlePem: broker.bundlePem };
  });

  after(async () => {
    await broker?.stop();
    await coco?.close();
    if (dir) removeTempDir(dir);
  });

  it('issues through the service in background-check and passport mode, and keeps sample on the built-in verifier', async () => {
    const key = await generateTeeKey();
    const first = await challenge(target, 'snp');
    const evidence = cocoEvidence(runtimeData(first.nonce, key.spki), measurement);
    const reply = await postAttest(target, { nonce: first.nonce, csr: await createCsr(key), evidence });
    expect(reply.status, reply.text()).to.equal(201);
    expect(reply.json<AttestResponse>().claims).to.include({ tee: 'snp', verifier: 'coco', measurement: measurement.toString('hex') });
    expect(reply.json<AttestResponse>().claims.tee_claims).to.include({ 'ear.appraisal-policy-id': 'kbs-policy' });
    expect(JSON.parse(coco.service.requests.at(-1)!.body.toString('utf8'))).to.deep.include({ policy_ids: ['kbs-policy'] });

    const second = await challenge(target, 'snp');
    const data = runtimeData(second.nonce, key.spki);
    const token = await coco.requestToken('snp', cocoEvidence(data, measurement), data);
    const passport = await postAttest(target, { nonce: second.nonce, csr: await createCsr(key), token });
    expect(passport.status, passport.text()).to.equal(201);
    expect(passport.json<AttestResponse>().claims).to.include({ verifier: 'coco' });

    const sample = await challenge(target, 'sample');
    const sampleReply = await postAttest(target, await attestBody(sample.nonce, key));
    expect(sampleReply.status, sampleReply.text()).to.equal(201);
    expect(sampleReply.json<AttestResponse>().claims).to.include({ verifier: 'builtin' });
  });

  it('refuses to start with a table whose trusted certificate file holds no certificate, naming the verifier', async () => {
    writeFileSync(join(dir, 'empty.pem'), 'no certificate here\n');
    let failure: unknown;
    try {
      const bad = await startBroker({
        toml: ['[[verifier]]', 'name = "coco"', 'type = "coco-as"', 'tees = ["snp"]', `trusted_certs = ["${join(dir, 'empty.pem')}"]`].join('\n'),
      });
      await bad.stop();
    } catch (error) {
      failure = error;
    }
    expect(String(failure)).to.contain('verifier "coco"');
  });
});
