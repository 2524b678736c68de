/**
 * An SEV-SNP attestation through a real broker process: a fake AMD hierarchy made here (its ARK trusted only through
 * the documented, dangerous `snp_extra_ark_sha256` key), a report binding the nonce and CSR key, init data in HOST_DATA.
 */
import { expect } from 'chai';
import { createHash, type KeyObject } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { claimsOfCertificate } from '../../src/pki/claims-extension.js';
import { derToPem } from '../../src/pki/pem.js';
import { fakeAmd, makeCertificate, makeReport, milanTcb, p384Key, vcekExtensions, type FakeAmd, type Tcb } from '../unit/attestation/snp/fake-amd-pki.js';
import { makeTempDir, startBroker, type BrokerProcess } from './helpers/broker-process.js';
import { expectProblem, postJson } from './helpers/https-client.js';
import { challenge, createCsr, fromPem, generateTeeKey, reportData, type AttestResponse } from './helpers/v1-protocol.js';

describe('e2e: SEV-SNP attestation to a certificate', function () {
  this.timeout(120_000);
  const TCB: Tcb = { bootloader: 4, tee: 0, snp: 24, microcode: 217 };
  const chipId = Buffer.alloc(64, 0x42);
  const initData = 'version = "0.1.0"\nalgorithm = "sha256"\n[data]\n"aa.toml" = "x"\n';
  let amd: FakeAmd;
  let vcekKey: KeyObject;
  let vcek: Buffer;
  let broker: BrokerProcess;

  before(async () => {
    amd = await fakeAmd();
    vcekKey = await p384Key();
    vcek = makeCertificate({ subject: 'SEV-VCEK', issuer: 'SEV-Milan', publicKey: vcekKey, signingKey: amd.askKey, extensions: vcekExtensions({ product: 'Milan-B0', tcb: TCB, hwId: chipId }) });
    const home = makeTempDir();
    mkdirSync(join(home, 'amd'));
    writeFileSync(join(home, 'amd', 'milan_ask_ark.pem'), derToPem(amd.ask, 'CERTIFICATE') + derToPem(amd.ark, 'CERTIFICATE'));
    broker = await startBroker({
      home, removeHome: true,
      toml: `[attestation]\nsnp_cert_dir = "amd"\nsnp_extra_ark_sha256 = ["${amd.arkSha256}"]\n`,
    });
  });
  after(() => broker?.stop());

  async function attempt(options: { bind?: 'nonce' | 'other'; hostData?: Buffer; measurement?: Buffer } = {}) {
    const key = await generateTeeKey('ec-p384');
    const { nonce } = await challenge(broker, 'snp');
    const report = makeReport({
      reportedTcb: milanTcb(TCB), chipId,
      reportData: reportData(options.bind === 'other' ? `${nonce}x` : nonce, key.spki),
      measurement: options.measurement ?? Buffer.alloc(48, 0x6d),
      hostData: options.hostData ?? createHash('sha256').update(initData).digest(),
    }, vcekKey);
    const evidence = { attestation_report: [...report], cert_chain: [{ cert_type: 'VCEK', data: [...vcek] }] };
    return postJson(broker, '/kbs/v1/attest', { nonce, csr: await createCsr(key, 'CN=snp'), evidence, init_data: { format: 'toml', body: initData } });
  }

  it('issues a certificate whose claims show the measurement, the init-data digest and the SNP claims', async () => {
    const measurement = Buffer.alloc(48, 0x6d);
    const reply = await attempt({ measurement });
    expect(reply.status, reply.text()).to.equal(201);
    const body = reply.json<AttestResponse>();
    const id = createHash('sha256').update(measurement).digest('hex').slice(0, 16);
    expect(body.spiffe_id).to.equal(`spiffe://keybroker.local/tee/snp/${id}`);
    const claims = claimsOfCertificate(fromPem(body.certificate, 'CERTIFICATE'))!;
    expect(claims).to.include({ tee: 'snp', verifier: 'builtin', status: 'affirming', measurement: measurement.toString('hex') });
    expect(claims.init_data).to.equal(createHash('sha384').update(initData).digest('hex'));
    expect(claims.tee_claims).to.include({ host_data: createHash('sha256').update(initData).digest('hex'), chip_id: chipId.toString('hex'), reported_tcb_microcode: 217 });
    expect(body.claims).to.deep.equal(claims);
  });

  it('the broker warns at start that an extra ARK is trusted', () => {
    expect(broker.stderr()).to.match(/snp_extra_ark_sha256 trusts 1 ARK\(s\) besides AMD's/);
  });

  it('answers 403 binding-mismatch when HOST_DATA does not hold the init-data digest', async () => {
    expectProblem(await attempt({ hostData: Buffer.alloc(32, 1) }), 403, 'binding-mismatch');
  });

  it('answers 403 binding-mismatch when the report data binds another nonce', async () => {
    expectProblem(await attempt({ bind: 'other' }), 403, 'binding-mismatch');
  });

  it('answers 403 attestation-failed for a report signed by another key', async () => {
    const key = await generateTeeKey('ec-p256');
    const { nonce } = await challenge(broker, 'snp');
    const report = makeReport({ reportedTcb: milanTcb(TCB), chipId, reportData: reportData(nonce, key.spki) }, await p384Key());
    const reply = await postJson(broker, '/kbs/v1/attest', { nonce, csr: await createCsr(key), evidence: { attestation_report: report.toString('base64'), cert_chain: [{ cert_type: 'VCEK', data: [...vcek] }] } });
    const problem = expectProblem(reply, 403, 'attestation-failed', broker.home);
    expect(problem.detail).to.match(/signature/);
  });

  it('answers 400 bad-evidence-format for a truncated report', async () => {
    const key = await generateTeeKey('ec-p256');
    const { nonce } = await challenge(broker, 'snp');
    const reply = await postJson(broker, '/kbs/v1/attest', { nonce, csr: await createCsr(key), evidence: { attestation_report: Buffer.alloc(100).toString('base64') } });
    expectProblem(reply, 400, 'bad-evidence-format', broker.home);
  });
});
