/** `keybroker evidence verify` as a user runs it: the real CLI binary on the shared SNP vectors and on synthetic evidence. */
import { expect } from 'chai';
import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { derToPem } from '../../src/pki/pem.js';
import { SHARED_VECTORS_DIR, useSharedVectors } from '../helpers/shared-vectors.js';
import { fakeAmd, makeCertificate, makeCrl, makeReport, milanTcb, p384Key, vcekExtensions, type FakeAmd, type Tcb } from '../unit/attestation/snp/fake-amd-pki.js';
import { makeTempDir, removeTempDir } from './helpers/broker-process.js';
import { describeResult, runCli, type CommandResult } from './helpers/run-command.js';
import { reportData } from './helpers/v1-protocol.js';

const AT = ['--at', '2025-07-01T00:00:00Z'];
const snp = (name: string): string => join(SHARED_VECTORS_DIR, 'snp', name);

function json(result: CommandResult): Record<string, unknown> & { tee_claims: Record<string, unknown> } {
  expect(result.code, describeResult(result)).to.equal(0);
  return JSON.parse(result.stdout.toString('utf8')) as Record<string, unknown> & { tee_claims: Record<string, unknown> };
}

function failedWith(result: CommandResult, pattern: RegExp): void {
  expect(result.code, describeResult(result)).to.equal(1);
  expect(result.stdout.toString('utf8')).to.equal('');
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).to.have.lengthOf(1);
  expect(lines[0]).to.match(pattern);
}

describe('e2e: keybroker evidence verify', function () {
  this.timeout(60_000);
  const vector = useSharedVectors(this);
  let home: string;

  before(() => { home = makeTempDir(); });
  // The suite may be skipped (no shared vectors) before `before` ran.
  after(() => { if (home) removeTempDir(home); });

  it('verifies the raw v2 Milan report with --certs FILE FILE (DER VCEK, PEM bundle) and prints the manifest\'s measurement and report_data', async () => {
    const claims = json(await runCli(home, ['evidence', 'verify', '--tee', 'snp', '--evidence', snp('test-report.bin'), '--certs', snp('test-vcek.der'), snp('milan_ask_ark_asvk.pem'), ...AT, '--json']));
    expect(claims).to.include({
      tee: 'snp', status: 'affirming', measurement: 'a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c23500644e0e692e6be917f9050d3d38c',
      report_data: 'ec6c52d7533cc2c4f45be7849cf112ab82b2009fe7bd43e71ed08c14400ad7e2' + '00'.repeat(32),
    });
    expect(claims.tee_claims).to.include({ version: 2, product: 'Milan', reported_tcb_microcode: 115 });
  });

  it('detects base64 of the report, and checks --report-data (zero-padded) against it', async () => {
    const file = join(home, 'report.b64');
    writeFileSync(file, `${vector('snp/test-report.bin').toString('base64').replace(/.{1,76}/g, '$&\n')}`);
    const args = ['evidence', 'verify', '--tee', 'snp', '--evidence', file, '--certs', snp('test-vcek.der'), '--certs', snp('milan_ask_ark_asvk.pem'), ...AT];
    json(await runCli(home, [...args, '--report-data', 'ec6c52d7533cc2c4f45be7849cf112ab82b2009fe7bd43e71ed08c14400ad7e2']));
    failedWith(await runCli(home, [...args, '--report-data', 'ec6c52d7533cc2c4f45be7849cf112ab82b2009fe7bd43e71ed08c14400ad7e3']), /binding/);
  });

  it('verifies trustee\'s JSON evidence (Genoa, VCEK inside) with the AMD chain from --collateral DIR', async () => {
    const dir = join(home, 'amd');
    mkdirSync(dir);
    symlinkSync(snp('genoa_ask_ark_asvk.pem'), join(dir, 'genoa.pem'));
    const claims = json(await runCli(home, ['evidence', 'verify', '--tee', 'snp', '--evidence', snp('trustee-e2e-evidence.json'), '--collateral', dir, ...AT]));
    expect(claims.measurement).to.equal('6a6519d757e68c2e939c9dbbbc1828498e8de35d2766dd05f1a2cca5059d0cf4ae62a36d75c837974dd50b315506e73e');
    expect(claims.report_data).to.equal('7e7320889600c7ac133aea7b896c51f41026002982292a7369559796999c1bf929eef3ff23c46e858f0b1982f9a92b17c51b578d958cde6b0c92978f150cf9b0');
  });

  it('verifies the VLEK report at VMPL 1 when the config allows it; names the failed check otherwise', async () => {
    const config = join(home, 'vmpl1.toml');
    writeFileSync(config, '[attestation]\nsnp_max_vmpl = 1\n');
    const args = ['evidence', 'verify', '--tee', 'snp', '--evidence', snp('test-vlek-report.bin'), '--certs', snp('test-vlek.der'), '--certs', snp('milan_ask_ark_asvk.pem')];
    expect(json(await runCli(home, [...args, ...AT, '--config', config])).tee_claims).to.include({ signing_key: 'vlek', vmpl: 1 });
    failedWith(await runCli(home, [...args, ...AT]), /^keybroker: attestation-failed: SNP VMPL 1 is above the allowed 0$/);
    failedWith(await runCli(home, [...args, '--config', config]), /^keybroker: attestation-failed: SNP chain: the VLEK certificate expired/);
  });

  it('exits 1 naming the check: no VCEK, wrong chain, truncated report', async () => {
    failedWith(await runCli(home, ['evidence', 'verify', '--tee', 'snp', '--evidence', snp('test-report.bin'), ...AT]), /no VCEK certificate/);
    failedWith(await runCli(home, ['evidence', 'verify', '--tee', 'snp', '--evidence', snp('test-report.bin'), '--certs', snp('test-vcek.der'), '--certs', snp('genoa_ask_ark_asvk.pem'), ...AT]), /SNP chain/);
    const truncated = join(home, 'truncated.bin');
    writeFileSync(truncated, vector('snp/test-report.bin').subarray(0, 1000));
    failedWith(await runCli(home, ['evidence', 'verify', '--tee', 'snp', '--evidence', truncated, ...AT]), /bad-evidence-format: SNP report: must be exactly 1184 bytes/);
  });

  it('exits 2 for usage errors', async () => {
    for (const args of [
      ['evidence', 'verify', '--tee', 'sgx', '--evidence', snp('test-report.bin')],
      ['evidence', 'verify', '--tee', 'snp', '--evidence', snp('test-report.bin'), '--at', 'yesterday'],
      ['evidence', 'verify', '--tee', 'snp', '--evidence', snp('test-report.bin'), '--nonce', 'n'],
      ['evidence', 'verify', '--tee', 'snp', '--evidence', snp('test-report.bin'), 'stray'],
      ['evidence', 'verify', '--tee', 'tdx', '--evidence', snp('test-report.bin'), '--certs', snp('test-report.bin')],
    ]) {
      expect((await runCli(home, args)).code, args.join(' ')).to.equal(2);
    }
  });

  describe('with a synthetic AMD hierarchy', () => {
    const TCB: Tcb = { bootloader: 1, tee: 2, snp: 3, microcode: 4 };
    let amd: FakeAmd;
    let vcekKey: KeyObject;

    before(async function () {
      this.timeout(120_000);
      amd = await fakeAmd();
      vcekKey = await p384Key();
    });

    it('checks --nonce N --spki FILE against the report data (PROTOCOL.md 1.2)', async () => {
      const vcek = makeCertificate({ subject: 'SEV-VCEK', issuer: 'SEV-Milan', publicKey: vcekKey, signingKey: amd.askKey, extensions: vcekExtensions({ product: 'Milan-B0', tcb: TCB, hwId: Buffer.alloc(64, 7) }) });
      const teeKey = await p384Key();
      const spki = createPublicKey(teeKey).export({ type: 'spki', format: 'pem' });
      const report = makeReport({ reportedTcb: milanTcb(TCB), chipId: Buffer.alloc(64, 7), reportData: reportData('the-nonce', createPublicKey(teeKey).export({ type: 'spki', format: 'der' })) }, vcekKey);
      writeFileSync(join(home, 'synthetic.bin'), report);
      writeFileSync(join(home, 'synthetic-vcek.der'), vcek);
      writeFileSync(join(home, 'fake-amd.pem'), [amd.ask, amd.ark].map((der) => derToPem(der, 'CERTIFICATE')).join(''));
      writeFileSync(join(home, 'spki.pem'), spki);
      writeFileSync(join(home, 'fake.toml'), `[attestation]\nsnp_extra_ark_sha256 = ["${amd.arkSha256}"]\n`);
      const args = ['evidence', 'verify', '--tee', 'snp', '--evidence', join(home, 'synthetic.bin'), '--certs', join(home, 'synthetic-vcek.der'), '--certs', join(home, 'fake-amd.pem'), '--spki', join(home, 'spki.pem')];
      json(await runCli(home, [...args, '--nonce', 'the-nonce', '--config', join(home, 'fake.toml')]));
      failedWith(await runCli(home, [...args, '--nonce', 'another-nonce', '--config', join(home, 'fake.toml')]), /binding/);
      failedWith(await runCli(home, [...args, '--nonce', 'the-nonce']), /is not a pinned AMD root/);
    });

    it('enforces a CRL of the ARK from --collateral DIR (DER or PEM), and refuses a file that is no CRL', async () => {
      const vcek = makeCertificate({ subject: 'SEV-VCEK', issuer: 'SEV-Milan', publicKey: vcekKey, signingKey: amd.askKey, extensions: vcekExtensions({ product: 'Milan-B0', tcb: TCB, hwId: Buffer.alloc(64, 8) }) });
      const report = makeReport({ reportedTcb: milanTcb(TCB), chipId: Buffer.alloc(64, 8) }, vcekKey);
      const dir = join(home, 'amd-with-crl');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(home, 'crl-report.bin'), report);
      writeFileSync(join(dir, 'chain.pem'), [vcek, amd.ask, amd.ark].map((der) => derToPem(der, 'CERTIFICATE')).join(''));
      writeFileSync(join(home, 'fake.toml'), `[attestation]\nsnp_extra_ark_sha256 = ["${amd.arkSha256}"]\n`);
      const crl = (revoked: string[]) => makeCrl({ issuer: 'ARK-Milan', signingKey: amd.arkKey, thisUpdate: new Date(Date.now() - 86_400_000), nextUpdate: new Date(Date.now() + 86_400_000), revoked });
      const args = ['evidence', 'verify', '--tee', 'snp', '--evidence', join(home, 'crl-report.bin'), '--collateral', dir, '--config', join(home, 'fake.toml')];

      writeFileSync(join(dir, 'ark.crl'), crl(['0badc0de']));
      expect(json(await runCli(home, args)).status).to.equal('affirming');
      const askSerial = new X509Certificate(amd.ask).serialNumber.toLowerCase().replace(/^0+(?=.)/, '');
      writeFileSync(join(dir, 'ark.crl'), derToPem(crl([askSerial]), 'X509 CRL'));
      failedWith(await runCli(home, args), new RegExp(`AMD's CRL revokes the ASK \\(serial ${askSerial}\\)`));
      writeFileSync(join(dir, 'ark.crl'), 'not a CRL');
      failedWith(await runCli(home, args), /SNP CRL file ark\.crl is not a CRL/);
    });
  });

  describe('TDX, through the same built-in verifier', () => {
    const tdx = (name: string): string => join(SHARED_VECTORS_DIR, 'tdx', name);

    it('verifies the dcap-qvl quote with its collateral from --collateral DIR: UpToDate, the manifest\'s mr_td and report_data', async () => {
      const dir = join(home, 'intel');
      mkdirSync(dir);
      symlinkSync(tdx('dcap-qvl-tdx_quote_collateral.json'), join(dir, 'tdx-collateral-b0c06f000000.json'));
      const claims = json(await runCli(home, ['evidence', 'verify', '--tee', 'tdx', '--evidence', tdx('dcap-qvl-tdx_quote.bin'), '--collateral', dir, ...AT]));
      expect(claims).to.include({
        tee: 'tdx', status: 'affirming', tcb_status: 'UpToDate',
        mr_td: '91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7',
        report_data: '9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20',
      });
    });

    it('refuses the debug TD of tdx_quote_4.dat, naming the check', async () => {
      failedWith(await runCli(home, ['evidence', 'verify', '--tee', 'tdx', '--evidence', tdx('tdx_quote_4.dat'), ...AT]), /^keybroker: attestation-failed: .*DEBUG/);
    });
  });
});
