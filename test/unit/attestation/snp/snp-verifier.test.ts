import { expect } from 'chai';
import type { KeyObject } from 'node:crypto';
import { KbsError } from '../../../../src/domain/errors.js';
import { derToPem } from '../../../../src/pki/pem.js';
import { snpReportToJson } from '../../../../src/client/tsm/snp-report-json.js';
import { parseAmdCertificates, verifySnpEvidence, type SnpVerifyContext } from '../../../../src/attestation/verifiers/snp/snp-verifier.js';
import {
  fakeAmd, makeCertificate, makeCrl, makeReport, milanTcb, p384Key, turinTcb, vcekExtensions, type FakeAmd, type ReportSpec, type Tcb,
} from './fake-amd-pki.js';

const NOW = new Date('2026-03-01T00:00:00Z');
const TCB: Tcb = { bootloader: 4, tee: 0, snp: 24, microcode: 217 };
const CHIP = Buffer.alloc(64, 0x5c);

async function failure(promise: Promise<unknown>): Promise<KbsError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(KbsError);
    return error as KbsError;
  }
  throw new Error('expected the verification to fail');
}

describe('SNP verifier (synthetic AMD hierarchy)', function () {
  this.timeout(120_000);
  let amd: FakeAmd;
  let vcekKey: KeyObject;
  let vcek: Buffer;

  before(async () => {
    amd = await fakeAmd();
    vcekKey = await p384Key();
    vcek = makeCertificate({ subject: 'SEV-VCEK', issuer: 'SEV-Milan', publicKey: vcekKey, signingKey: amd.askKey, extensions: vcekExtensions({ product: 'Milan-B0', tcb: TCB, hwId: CHIP }) });
  });

  function context(overrides: Partial<SnpVerifyContext> = {}): SnpVerifyContext {
    return {
      name: 'builtin', now: NOW, allowDebug: false, maxVmpl: 0, extraArkSha256: [amd.arkSha256],
      certificates: [amd.ask, amd.ark, amd.asvk].flatMap((der) => parseAmdCertificates(der, 'fake chain')), ...overrides,
    };
  }

  function evidence(spec: Partial<ReportSpec> = {}, leaf = vcek, key = vcekKey): Record<string, unknown> {
    const report = makeReport({ reportedTcb: milanTcb(TCB), chipId: CHIP, ...spec }, key);
    return { attestation_report: [...report], cert_chain: [{ cert_type: 'VCEK', data: [...leaf] }] };
  }

  it('verifies a report signed by a VCEK chained to a trusted ARK, with the claims of the report', async () => {
    const measurement = Buffer.alloc(48, 0x11);
    const reportData = Buffer.alloc(64, 0x22);
    const verified = await verifySnpEvidence(evidence({ measurement, reportData, hostData: Buffer.alloc(32, 0x33) }), context());
    expect(verified.claims).to.include({ tee: 'snp', status: 'affirming', verifier: 'builtin', measurement: measurement.toString('hex') });
    expect(verified.claims.tee_claims).to.include({
      product: 'Milan', signing_key: 'vcek', report_data: reportData.toString('hex'), host_data: '33'.repeat(32),
      chip_id: CHIP.toString('hex'), reported_tcb_bootloader: 4, reported_tcb_snp: 24, reported_tcb_microcode: 217, policy_debug_allowed: false,
    });
    expect(Buffer.from(verified.reportData)).to.deep.equal(reportData);
    expect(Buffer.from(verified.initData!)).to.deep.equal(Buffer.alloc(32, 0x33));
  });

  it('reads the VCEK, ASK and ARK from the evidence cert_chain as PEM or base64 too', async () => {
    const report = makeReport({ reportedTcb: milanTcb(TCB), chipId: CHIP }, vcekKey);
    const verified = await verifySnpEvidence({
      attestation_report: report.toString('base64'),
      cert_chain: [{ cert_type: 'VCEK', data: vcek.toString('base64') }, { cert_type: 'ASK', data: derToPem(amd.ask, 'CERTIFICATE') }, { cert_type: 'ARK', data: derToPem(amd.ark, 'CERTIFICATE') }],
    }, context({ certificates: [] }));
    expect(verified.claims.status).to.equal('affirming');
  });

  it('verifies the JSON report object the configfs-tsm attester sends, skipping CRL entries of the certificate table', async () => {
    const report = makeReport({ reportedTcb: milanTcb(TCB), chipId: CHIP, measurement: Buffer.alloc(48, 0x44) }, vcekKey);
    const verified = await verifySnpEvidence({
      attestation_report: snpReportToJson(report),
      cert_chain: [{ cert_type: 'VCEK', data: [...vcek] }, { cert_type: 'CRL', data: [1, 2, 3] }, { cert_type: '92f81bc3-5811-4d3d-97ff-d19f88dc67ea', data: [] }],
    }, context());
    expect(verified.claims.measurement).to.equal('44'.repeat(48));
  });

  it('refuses a report whose signed bytes were changed (bad signature)', async () => {
    const good = evidence();
    const bytes = Buffer.from(good.attestation_report as number[]);
    bytes[0x90] ^= 1;
    const error = await failure(verifySnpEvidence({ ...good, attestation_report: [...bytes] }, context()));
    expect(error.code).to.equal('attestation-failed');
    expect(error.detail).to.match(/signature does not verify/);
  });

  it('refuses a report signed by another key than the VCEK given', async () => {
    const error = await failure(verifySnpEvidence(evidence({}, vcek, await p384Key()), context()));
    expect(error.detail).to.match(/signature does not verify with the VCEK/);
  });

  it('refuses a report without any VCEK', async () => {
    const error = await failure(verifySnpEvidence({ attestation_report: (evidence().attestation_report) }, context()));
    expect(error.detail).to.match(/no VCEK certificate/);
  });

  it('refuses a chain whose ARK is not pinned (wrong fingerprint)', async () => {
    const error = await failure(verifySnpEvidence(evidence(), context({ extraArkSha256: [] })));
    expect(error.detail).to.match(/is not a pinned AMD root/);
    expect(error.detail).to.contain(amd.arkSha256);
  });

  it('refuses a VCEK not signed by the ASK (wrong chain), or signed without RSASSA-PSS SHA-384', async () => {
    const rogue = makeCertificate({ subject: 'SEV-VCEK', issuer: 'SEV-Milan', publicKey: vcekKey, signingKey: amd.rogueKey, extensions: vcekExtensions({ product: 'Milan-B0', tcb: TCB, hwId: CHIP }) });
    expect((await failure(verifySnpEvidence(evidence({}, rogue), context()))).detail).to.match(/SNP chain: no ASK\/ASVK certificate signed/);
    const pkcs1 = makeCertificate({ subject: 'SEV-VCEK', issuer: 'SEV-Milan', publicKey: vcekKey, signingKey: amd.askKey, pkcs1: true, extensions: vcekExtensions({ product: 'Milan-B0', tcb: TCB, hwId: CHIP }) });
    expect((await failure(verifySnpEvidence(evidence({}, pkcs1), context()))).detail).to.match(/SNP chain: no ASK\/ASVK/);
  });

  it('refuses an ASK that the ARK did not sign', async () => {
    const forgedAsk = makeCertificate({ subject: 'SEV-Milan', issuer: 'ARK-Milan', publicKey: amd.askKey, signingKey: amd.rogueKey });
    const certificates = [forgedAsk, amd.ark].flatMap((der) => parseAmdCertificates(der, 'forged chain'));
    expect((await failure(verifySnpEvidence(evidence(), context({ certificates })))).detail).to.match(/ASK\/ASVK is not signed by the ARK/);
  });

  it('refuses a VCEK outside its validity at the verification time', async () => {
    const expired = makeCertificate({ subject: 'SEV-VCEK', issuer: 'SEV-Milan', publicKey: vcekKey, signingKey: amd.askKey, notAfter: new Date('2025-01-01T00:00:00Z'), extensions: vcekExtensions({ product: 'Milan-B0', tcb: TCB, hwId: CHIP }) });
    expect((await failure(verifySnpEvidence(evidence({}, expired), context()))).detail).to.match(/VCEK certificate expired/);
  });

  it('refuses a reported TCB that differs from the VCEK\'s TCB extensions', async () => {
    for (const tcb of [{ ...TCB, microcode: 216 }, { ...TCB, bootloader: 3 }, { ...TCB, snp: 25 }, { ...TCB, tee: 1 }]) {
      const error = await failure(verifySnpEvidence(evidence({ reportedTcb: milanTcb(tcb) }), context()));
      expect(error.detail).to.match(/SNP TCB mismatch/);
    }
  });

  it('refuses a VCEK without TCB extensions, and one with a negative DER integer', async () => {
    const bare = makeCertificate({ subject: 'SEV-VCEK', issuer: 'SEV-Milan', publicKey: vcekKey, signingKey: amd.askKey, extensions: [['1.3.6.1.4.1.3704.1.4', CHIP]] });
    expect((await failure(verifySnpEvidence(evidence({}, bare), context()))).detail).to.match(/no bootloader SPL extension/);
    const negative = makeCertificate({
      subject: 'SEV-VCEK', issuer: 'SEV-Milan', publicKey: vcekKey, signingKey: amd.askKey,
      extensions: vcekExtensions({ product: 'Milan-B0', tcb: TCB, hwId: CHIP }).map(([oid, value]) => [oid, oid.endsWith('.3.8') ? Buffer.from([2, 1, 0xd9]) : value]),
    });
    expect((await failure(verifySnpEvidence(evidence({}, negative), context()))).detail).to.match(/microcode SPL extension is malformed/);
  });

  it('enforces the ARK\'s CRL: current and not listing the ASK passes; listing it, stale, or forged fails; another ARK\'s is skipped', async () => {
    const askSerial = parseAmdCertificates(amd.ask, 'ask')[0]!.serial;
    const crl = (overrides: Partial<Parameters<typeof makeCrl>[0]> = {}) => makeCrl({
      issuer: 'ARK-Milan', signingKey: amd.arkKey, thisUpdate: new Date('2026-02-01T00:00:00Z'), nextUpdate: new Date('2026-04-01T00:00:00Z'), revoked: ['0badc0de'], ...overrides,
    });
    expect((await verifySnpEvidence(evidence(), context({ crls: [crl()] }))).claims.status).to.equal('affirming');
    expect((await verifySnpEvidence(evidence(), context({ crls: [crl({ issuer: 'ARK-Genoa', signingKey: amd.rogueKey, revoked: [askSerial] })] }))).claims.status).to.equal('affirming');

    expect((await failure(verifySnpEvidence(evidence(), context({ crls: [crl(), crl({ revoked: ['01', askSerial] })] })))).detail)
      .to.equal(`SNP chain: AMD's CRL revokes the ASK (serial ${askSerial})`);
    expect((await failure(verifySnpEvidence(evidence(), context({ crls: [crl({ nextUpdate: new Date('2026-02-15T00:00:00Z') })] })))).detail)
      .to.match(/^SNP CRL from the certificate directory: not current at 2026-03-01T00:00:00.000Z \(thisUpdate 2026-02-01T00:00:00.000Z, nextUpdate 2026-02-15T00:00:00.000Z\); refresh it$/);
    expect((await failure(verifySnpEvidence(evidence(), context({ crls: [crl({ signingKey: amd.rogueKey, revoked: [] })] })))).detail)
      .to.equal('SNP CRL from the certificate directory: signature does not verify with the ARK (RSASSA-PSS SHA-384)');
  });

  it('refuses a VCEK issued for another chip (hwID against chip_id)', async () => {
    const error = await failure(verifySnpEvidence(evidence({ chipId: Buffer.alloc(64, 0x5d) }), context()));
    expect(error.detail).to.match(/hwID/);
  });

  it('refuses a guest whose policy allows debugging unless configured, then marks the configuration unsafe and the result a warning', async () => {
    const debug = evidence({ policy: 0x30000n | (1n << 19n) });
    expect((await failure(verifySnpEvidence(debug, context()))).detail).to.match(/allows debugging/);
    const allowed = await verifySnpEvidence(debug, context({ allowDebug: true }));
    expect(allowed.claims.tee_claims.policy_debug_allowed).to.equal(true);
    expect(allowed.claims.trust_vector.configuration).to.equal(32);
    expect(allowed.claims.status).to.equal('warning');
  });

  it('refuses a report from a VMPL above the configured one (default 0)', async () => {
    expect((await failure(verifySnpEvidence(evidence({ vmpl: 1 }), context()))).detail).to.match(/VMPL 1 is above the allowed 0/);
    expect((await verifySnpEvidence(evidence({ vmpl: 1 }), context({ maxVmpl: 1 }))).claims.tee_claims.vmpl).to.equal(1);
  });

  it('refuses truncated reports and reports with trailing bytes as bad evidence format', async () => {
    const report = Buffer.from(evidence().attestation_report as number[]);
    for (const bytes of [report.subarray(0, 1183), Buffer.concat([report, Buffer.from([0])]), Buffer.alloc(0)]) {
      const error = await failure(verifySnpEvidence({ attestation_report: bytes.toString('base64'), cert_chain: [{ cert_type: 'VCEK', data: [...vcek] }] }, context()));
      expect(error.code).to.equal('bad-evidence-format');
    }
  });

  it('refuses unknown versions, signature algorithms and signing keys as bad evidence format', async () => {
    for (const [offset, value] of [[0x00, 1], [0x00, 6], [0x34, 2], [0x48, 7 << 2]] as const) {
      const bytes = Buffer.from(evidence().attestation_report as number[]);
      bytes.writeUInt32LE(value, offset);
      expect((await failure(verifySnpEvidence({ attestation_report: [...bytes] }, context()))).code).to.equal('bad-evidence-format');
    }
  });

  it('tells a VLEK report from a VCEK one: a VLEK chains through the ASVK and has no hwID', async () => {
    const vlekKey = await p384Key();
    const vlek = makeCertificate({ subject: 'SEV-VLEK', issuer: 'SEV-VLEK-Milan', publicKey: vlekKey, signingKey: amd.askKey, extensions: vcekExtensions({ product: 'Milan', tcb: TCB }) });
    const verified = await verifySnpEvidence(evidence({ signingKey: 1 }, vlek, vlekKey), context());
    expect(verified.claims.tee_claims.signing_key).to.equal('vlek');
    expect((await failure(verifySnpEvidence(evidence({ signingKey: 1 }), context()))).detail).to.match(/says VLEK but was signed by a VCEK/);
    expect((await failure(verifySnpEvidence(evidence({ signingKey: 0 }, vlek, vlekKey), context()))).detail).to.match(/no hwID extension/);
  });

  it('takes the product of a version 2 report from the VCEK product name', async () => {
    const verified = await verifySnpEvidence(evidence({ version: 2 }), context());
    expect(verified.claims.tee_claims).to.include({ version: 2, product: 'Milan' });
  });

  it('refuses a VCEK for another product than the report\'s CPUID says', async () => {
    const error = await failure(verifySnpEvidence(evidence({ family: 0x19, model: 0xa0 }), context()));
    expect(error.detail).to.match(/from Genoa but the certificate is for Milan/);
  });

  it('reads the Turin TCB layout, FMC included, and encodes SPLs above 127 with a sign byte', async () => {
    const tcb: Tcb = { fmc: 1, bootloader: 2, tee: 3, snp: 200, microcode: 130 };
    const key = await p384Key();
    const turinVcek = makeCertificate({ subject: 'SEV-VCEK', issuer: 'SEV-Milan', publicKey: key, signingKey: amd.askKey, extensions: vcekExtensions({ product: 'Turin', tcb, hwId: CHIP.subarray(0, 8) }) });
    const spec = { family: 0x1a, model: 0x02, reportedTcb: turinTcb(tcb) };
    const verified = await verifySnpEvidence(evidence(spec, turinVcek, key), context());
    expect(verified.claims.tee_claims).to.include({ product: 'Turin', reported_tcb_fmc: 1, reported_tcb_bootloader: 2, reported_tcb_tee: 3, reported_tcb_snp: 200, reported_tcb_microcode: 130 });
    const wrongFmc = await failure(verifySnpEvidence(evidence({ ...spec, reportedTcb: turinTcb({ ...tcb, fmc: 2 }) }, turinVcek, key), context()));
    expect(wrongFmc.detail).to.match(/reported fmc 2, certificate 1/);
  });
});
