/**
 * `[[verifier]]` tables of type intel-ta and azure-maa in a real `keybroker serve` process, against the loopback
 * stand-ins: the configuration is read, the services are used, and the API key never reaches the logs.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { maaSnpEvidence, startAzureMaaStandIn, type AzureMaaStandIn } from '../helpers/azure-maa-standin.js';
import { itaEvidence, startIntelTaStandIn, type IntelTaStandIn, type ItaNonce } from '../helpers/intel-ta-standin.js';
import { p384Key } from '../unit/attestation/snp/fake-amd-pki.js';
import { makeFakeIntelPki } from '../unit/attestation/tdx/fake-intel-pki.js';
import { makeTempDir, removeTempDir, startBroker, type BrokerProcess } from './helpers/broker-process.js';
import type { Target } from './helpers/https-client.js';
import { challenge, createCsr, generateTeeKey, postAttest, type AttestResponse } from './helpers/v1-protocol.js';

describe('e2e: Intel Trust Authority and Azure Attestation configured as [[verifier]] tables', function () {
  this.timeout(60_000);
  let ita: IntelTaStandIn;
  let maa: AzureMaaStandIn;
  let broker: BrokerProcess;
  let target: Target;
  let dir: string;

  before(async () => {
    [ita, maa] = await Promise.all([startIntelTaStandIn(), startAzureMaaStandIn()]);
    dir = makeTempDir('keybroker-e2e-services-');
    writeFileSync(join(dir, 'ita.pem'), ita.service.tlsCertificatePem);
    writeFileSync(join(dir, 'maa.pem'), maa.service.tlsCertificatePem);
    // Group-readable on purpose: the broker warns about it at start.
    writeFileSync(join(dir, 'ita-api-key'), `${ita.apiKey}\n`, { mode: 0o640 });
    chmodSync(join(dir, 'ita-api-key'), 0o640);
    broker = await startBroker({
      toml: [
        '[[verifier]]', 'name = "ita"', 'type = "intel-ta"', 'tees = ["tdx"]', `url = "${ita.service.url}"`,
        `api_key_file = "${join(dir, 'ita-api-key')}"`, `tls_ca_file = "${join(dir, 'ita.pem')}"`, 'issuer = "Intel Trust Authority"', '',
        '[[verifier]]', 'name = "maa"', 'type = "azure-maa"', 'tees = ["snp"]', `url = "${maa.service.url}"`,
        `tls_ca_file = "${join(dir, 'maa.pem')}"`, `issuer = "${maa.service.url}"`, '',
      ].join('\n'),
    });
    target = { port: broker.port, bundlePem: broker.bundlePem };
  });

  after(async () => {
    await broker?.stop();
    await Promise.all([ita?.close(), maa?.close()]);
    if (dir) removeTempDir(dir);
  });

  it('warns at start about an API key file that others may read, naming the verifier and not the key', () => {
    const logs = broker.stdout() + broker.stderr();
    expect(logs).to.contain('verifier \\"ita\\": api_key_file has mode 0640');
    expect(logs).not.to.contain(ita.apiKey);
  });

  it('issues certificates through each service, and never logs the Intel API key', async () => {
    const key = await generateTeeKey();
    const tdx = await challenge(target, 'tdx');
    const tdxReply = await postAttest(target, { nonce: tdx.nonce, csr: await createCsr(key), evidence: itaEvidence(makeFakeIntelPki(), tdx.verifier_nonce as ItaNonce, tdx.nonce, key.spki) });
    expect(tdxReply.status, tdxReply.text()).to.equal(201);
    expect(tdxReply.json<AttestResponse>().claims).to.include({ tee: 'tdx', verifier: 'ita' });

    const snp = await challenge(target, 'snp');
    const snpReply = await postAttest(target, { nonce: snp.nonce, csr: await createCsr(key), evidence: maaSnpEvidence(await p384Key(), snp.nonce, key.spki) });
    expect(snpReply.status, snpReply.text()).to.equal(201);
    expect(snpReply.json<AttestResponse>().claims).to.include({ tee: 'snp', verifier: 'maa' });

    expect(broker.stdout() + broker.stderr()).not.to.contain(ita.apiKey);
  });
});
