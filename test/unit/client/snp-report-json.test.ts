import { expect } from 'chai';
import { snpReportToJson } from '../../../src/client/tsm/snp-report-json.js';
import { parseSnpCertTable } from '../../../src/client/tsm/snp-cert-table.js';
import { readVector } from '../../helpers/vectors.js';

type Tcb = { fmc: number | null; bootloader: number; tee: number; snp: number; microcode: number };
type Json = Record<string, unknown>;

/**
 * The binary report rebuilt from trustee's JSON by the layout of the SEV-SNP firmware ABI (written here
 * independently of the parser): fields at their offsets, TCB as bootloader, tee, 4 zero bytes, snp, microcode.
 */
function reportFromTrusteeJson(json: Json): Buffer {
  const report = Buffer.alloc(1184);
  const u32 = (offset: number, name: string): void => { report.writeUInt32LE(json[name] as number, offset); };
  const u64 = (offset: number, name: string): void => { report.writeBigUInt64LE(BigInt(json[name] as number), offset); };
  const bytes = (offset: number, name: string): void => { Buffer.from(json[name] as number[]).copy(report, offset); };
  const tcb = (offset: number, name: string): void => {
    const value = json[name] as Tcb;
    report[offset] = value.bootloader; report[offset + 1] = value.tee; report[offset + 6] = value.snp; report[offset + 7] = value.microcode;
  };
  const firmware = (offset: number, name: string): void => {
    const value = json[name] as { major: number; minor: number; build: number };
    report[offset] = value.build; report[offset + 1] = value.minor; report[offset + 2] = value.major;
  };
  u32(0x00, 'version'); u32(0x04, 'guest_svn'); u64(0x08, 'policy'); bytes(0x10, 'family_id'); bytes(0x20, 'image_id');
  u32(0x30, 'vmpl'); u32(0x34, 'sig_algo'); tcb(0x38, 'current_tcb'); u64(0x40, 'plat_info'); u32(0x48, 'key_info');
  bytes(0x50, 'report_data'); bytes(0x90, 'measurement'); bytes(0xc0, 'host_data'); bytes(0xe0, 'id_key_digest');
  bytes(0x110, 'author_key_digest'); bytes(0x140, 'report_id'); bytes(0x160, 'report_id_ma'); tcb(0x180, 'reported_tcb');
  report[0x188] = json.cpuid_fam_id as number; report[0x189] = json.cpuid_mod_id as number; report[0x18a] = json.cpuid_step as number;
  bytes(0x1a0, 'chip_id'); tcb(0x1e0, 'committed_tcb'); firmware(0x1e8, 'current'); firmware(0x1ec, 'committed'); tcb(0x1f0, 'launch_tcb');
  const signature = json.signature as { r: number[]; s: number[] };
  Buffer.from(signature.r).copy(report, 0x2a0);
  Buffer.from(signature.s).copy(report, 0x2e8);
  return report;
}

describe('client: SNP report as trustee JSON', () => {
  it('reproduces trustee\'s own JSON of a real Genoa report, member for member', function () {
    const trustee = JSON.parse(readVector(this, 'snp/trustee-e2e-evidence.json').toString('utf8')) as { attestation_report: Json };
    const parsed = snpReportToJson(reportFromTrusteeJson(trustee.attestation_report));
    expect(Object.keys(parsed)).to.deep.equal(Object.keys(trustee.attestation_report));
    expect(parsed).to.deep.equal(trustee.attestation_report);
  });

  it('reads the fields of trustee\'s version 2 Milan test report', function () {
    const parsed = snpReportToJson(readVector(this, 'snp/test-report.bin'));
    expect(parsed.version).to.equal(2);
    expect(parsed.guest_svn).to.equal(4);
    expect(parsed.policy).to.equal(0x3001f);
    expect(parsed.sig_algo).to.equal(1);
    expect(parsed.plat_info).to.equal(1);
    expect(Buffer.from(parsed.measurement as number[]).toString('hex')).to.equal('a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c23500644e0e692e6be917f9050d3d38c');
    expect(parsed.reported_tcb).to.deep.equal({ fmc: null, bootloader: 3, tee: 0, snp: 8, microcode: 115 });
    expect(parsed.current).to.deep.equal({ major: 1, minor: 52, build: 4 });
    expect(parsed.cpuid_fam_id, 'a v2 report has no CPUID bytes').to.equal(null);
  });

  it('reads a version 3 VLEK report (key_info signing key 1 = VLEK, VMPL 1)', function () {
    const parsed = snpReportToJson(readVector(this, 'snp/test-vlek-report.bin'));
    expect(parsed.version).to.equal(3);
    expect(parsed.vmpl).to.equal(1);
    expect(parsed.key_info).to.equal(4);
    expect(parsed.plat_info).to.equal(0x27);
    expect(parsed.reported_tcb).to.deep.equal({ fmc: null, bootloader: 4, tee: 0, snp: 24, microcode: 217 });
    expect([parsed.cpuid_fam_id, parsed.cpuid_mod_id, parsed.cpuid_step]).to.deep.equal([0x19, 0x01, 0x01]);
  });

  it('uses the Turin TCB layout (fmc first) for CPUID family 0x1A and adds the v5 mitigation vectors', () => {
    const report = Buffer.alloc(1184);
    report.writeUInt32LE(5, 0);
    report[0x188] = 0x1a;
    Buffer.from([1, 2, 3, 4, 0, 0, 0, 9]).copy(report, 0x180);
    report.writeBigUInt64LE(7n, 0x1f8);
    report.writeBigUInt64LE(8n, 0x200);
    const parsed = snpReportToJson(report);
    expect(parsed.reported_tcb).to.deep.equal({ fmc: 1, bootloader: 2, tee: 3, snp: 4, microcode: 9 });
    expect([parsed.launch_mit_vector, parsed.current_mit_vector]).to.deep.equal([7, 8]);
  });

  it('refuses a report of the wrong size or an unknown old version', () => {
    expect(() => snpReportToJson(Buffer.alloc(1000))).to.throw(/1184 bytes/);
    expect(() => snpReportToJson(Buffer.alloc(1184))).to.throw(/version 0/);
  });
});

describe('client: SNP certificate table', () => {
  it('refuses a table without a terminating entry or with an entry past its end', () => {
    expect(() => parseSnpCertTable(Buffer.alloc(20))).to.throw(/terminating/);
    const table = Buffer.alloc(48);
    table.writeUInt32LE(40, 16);
    table.writeUInt32LE(100, 20);
    table[0] = 1;
    expect(() => parseSnpCertTable(table)).to.throw(/past the table/);
  });
});
