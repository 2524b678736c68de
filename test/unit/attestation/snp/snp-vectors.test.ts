import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { KbsError } from '../../../../src/domain/errors.js';
import { PINNED_ARK_SHA256 } from '../../../../src/attestation/verifiers/snp/amd-roots.js';
import { signedByAmdKey } from '../../../../src/attestation/verifiers/snp/amd-certificate.js';
import { decodeSnpEvidence } from '../../../../src/attestation/verifiers/snp/snp-evidence.js';
import { parseAmdCertificates, verifySnpEvidence, type SnpVerifyContext } from '../../../../src/attestation/verifiers/snp/snp-verifier.js';
import { useSharedVectors } from '../../../helpers/shared-vectors.js';

/** MANIFEST.md: one instant at which every SNP certificate in the vectors is valid. */
const PINNED_TIME = new Date('2025-07-01T00:00:00Z');

describe('SNP verifier on the shared vectors (MANIFEST.md)', function () {
  const vector = useSharedVectors(this);

  function context(bundle: string, overrides: Partial<SnpVerifyContext> = {}): SnpVerifyContext {
    return {
      name: 'builtin', now: PINNED_TIME, allowDebug: false, maxVmpl: 0, extraArkSha256: [],
      certificates: parseAmdCertificates(vector(`snp/${bundle}_ask_ark_asvk.pem`), bundle), ...overrides,
    };
  }

  const raw = (report: string, leaf: string) => ({ attestation_report: vector(`snp/${report}`).toString('base64'), cert_chain: [{ cert_type: 'VCEK', data: [...vector(`snp/${leaf}`)] }] });

  it('pins exactly the ARK (second certificate) of each AMD bundle', () => {
    for (const [product, bundle] of [['Milan', 'milan'], ['Genoa', 'genoa'], ['Turin', 'turin']] as const) {
      const [ask, ark, asvk] = parseAmdCertificates(vector(`snp/${bundle}_ask_ark_asvk.pem`), bundle);
      expect(PINNED_ARK_SHA256[product]).to.deep.equal([ark!.sha256]);
      expect(signedByAmdKey(ask!, ark!), `${product} ASK`).to.equal(true);
      expect(signedByAmdKey(asvk!, ark!), `${product} ASVK`).to.equal(true);
      expect(signedByAmdKey(ark!, ark!), `${product} ARK`).to.equal(true);
      expect(signedByAmdKey(ask!, ask!)).to.equal(false);
    }
  });

  it('verifies test-report.bin (version 2, Milan from the VCEK product name) with the claims of the manifest', async () => {
    const { claims, reportData, initData } = await verifySnpEvidence(raw('test-report.bin', 'test-vcek.der'), context('milan'));
    expect(claims).to.include({ tee: 'snp', status: 'affirming', measurement: 'a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c23500644e0e692e6be917f9050d3d38c' });
    expect(claims.tee_claims).to.include({
      version: 2, product: 'Milan', signing_key: 'vcek', guest_svn: 4, policy: 0x3001f, vmpl: 0, platform_info: 1,
      policy_abi_major: 0, policy_abi_minor: 31, policy_smt_allowed: true, policy_debug_allowed: false, policy_migrate_ma: false,
      report_data: 'ec6c52d7533cc2c4f45be7849cf112ab82b2009fe7bd43e71ed08c14400ad7e2' + '00'.repeat(32),
      host_data: '00'.repeat(32),
      family_id: '01000000000000000000000000000000', image_id: '02000000000000000000000000000000',
      id_key_digest: '0356215882a825279a85b300b0b742931d113bf7e32dde2e50ffde7ec743ca491ecdd7f336dc28a6e0b2bb57af7a44a3',
      report_id: '385eba81216de4776548fcb86f8ead03c1ebc92b6207f3210d9ccebb89c99005',
      reported_tcb_bootloader: 3, reported_tcb_tee: 0, reported_tcb_snp: 8, reported_tcb_microcode: 115,
    });
    expect(claims.tee_claims.chip_id).to.match(/^c38427a30d4c7af9d96f7a15b9726982[0-9a-f]{96}$/);
    expect(Buffer.from(reportData).toString('hex')).to.equal(claims.tee_claims.report_data);
    expect(Buffer.from(initData!).toString('hex')).to.equal('00'.repeat(32));
  });

  it('verifies test-vlek-report.bin (version 3, VLEK via the ASVK, VMPL 1) when VMPL 1 is allowed, and refuses it at VMPL 0', async () => {
    const evidence = raw('test-vlek-report.bin', 'test-vlek.der');
    const { claims } = await verifySnpEvidence(evidence, context('milan', { maxVmpl: 1 }));
    expect(claims.measurement).to.equal('8922ebbdd00ec2c541f36a6e7a82a8773a7accb451ed67bc94e740dbe92c93c4e8c9af857f5ceeb5a493df2a570d7bf0');
    expect(claims.tee_claims).to.include({
      version: 3, product: 'Milan', signing_key: 'vlek', vmpl: 1, policy: 0x30000, platform_info: 0x27, platform_tsme_enabled: true,
      report_data: '819770b7e6ea6df8dd8fd4dd146b073c0bf4f3ce5b0977ecac486e3a05ed1bd54e2a7ac1f5d1ca02e7d7d5ef9f73b8574fd9359e3a480d741a4478e8a7bc27ca',
      report_id: '62e04fba700afd93b3a0cc0649b633ee36587fa8a8c2eb5d9b7cd7bc5f4bb057', chip_id: '00'.repeat(64),
      reported_tcb_bootloader: 4, reported_tcb_tee: 0, reported_tcb_snp: 24, reported_tcb_microcode: 217,
    });
    const atVmpl0 = await verifySnpEvidence(evidence, context('milan')).catch((error: unknown) => error);
    expect((atVmpl0 as KbsError).detail).to.match(/VMPL 1 is above the allowed 0/);
  });

  it('refuses the VLEK at the real clock: it expired on 2025-12-10', async () => {
    const error = await verifySnpEvidence(raw('test-vlek-report.bin', 'test-vlek.der'), context('milan', { maxVmpl: 1, now: new Date('2026-11-29T00:00:00Z') })).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(KbsError);
    expect((error as KbsError).detail).to.match(/VLEK certificate expired at 2025-12-10T22:14:21/);
  });

  it('rebuilds the report of trustee-e2e-evidence.json byte for byte and verifies it (Genoa, embedded VCEK)', async () => {
    const evidence = JSON.parse(vector('snp/trustee-e2e-evidence.json').toString('utf8')) as unknown;
    expect(createHash('sha256').update(decodeSnpEvidence(evidence).report).digest('hex')).to.equal('18e907bf99a957d8ccf30f2081da17f673da648a7a0b9d551a866e875234c21a');
    const { claims } = await verifySnpEvidence(evidence, context('genoa'));
    expect(claims.measurement).to.equal('6a6519d757e68c2e939c9dbbbc1828498e8de35d2766dd05f1a2cca5059d0cf4ae62a36d75c837974dd50b315506e73e');
    expect(claims.tee_claims).to.include({
      version: 3, product: 'Genoa', signing_key: 'vcek', vmpl: 0, platform_info: 0x25, policy: 0x30000,
      report_data: '7e7320889600c7ac133aea7b896c51f41026002982292a7369559796999c1bf929eef3ff23c46e858f0b1982f9a92b17c51b578d958cde6b0c92978f150cf9b0',
      report_id: 'b34cb907a31ad237beb02efd236ab9899a7ddd66ff5beed2636765183a84e44f',
      reported_tcb_bootloader: 10, reported_tcb_tee: 0, reported_tcb_snp: 23, reported_tcb_microcode: 25,
    });
    expect(claims.tee_claims.chip_id).to.match(/^371c55d6d15cb50f16dc31d39a24e300/);
  });

  it('refuses a real report with the wrong product\'s AMD chain', async () => {
    const error = await verifySnpEvidence(raw('test-report.bin', 'test-vcek.der'), context('genoa')).catch((e: unknown) => e);
    expect((error as KbsError).code).to.equal('attestation-failed');
    expect((error as KbsError).detail).to.match(/^SNP chain: no ASK\/ASVK certificate signed/);
  });

  it('refuses the Milan VCEK for the Genoa report (signature)', async () => {
    const evidence = JSON.parse(vector('snp/trustee-e2e-evidence.json').toString('utf8')) as { cert_chain: unknown[] };
    evidence.cert_chain = [{ cert_type: 'VCEK', data: [...vector('snp/test-vcek.der')] }];
    const error = await verifySnpEvidence(evidence, context('genoa')).catch((e: unknown) => e);
    expect((error as KbsError).detail).to.match(/signature does not verify/);
  });
});
