/**
 * The SEV-SNP attestation report (1184 bytes, little-endian) as the JSON object trustee's `snp` evidence carries
 * under `attestation_report`: one member per field, byte fields as arrays of numbers, TCB versions as
 * `{fmc, bootloader, tee, snp, microcode}`, firmware versions as `{major, minor, build}`, the signature as
 * `{r, s}` in report byte order. Reserved bytes are left out.
 */
export const SNP_REPORT_SIZE = 1184;

/** CPUID family of Turin (Zen 5), whose TCB version has a different byte layout. */
const TURIN_FAMILY = 0x1a;

export interface SnpTcbVersion {
  fmc: number | null;
  bootloader: number;
  tee: number;
  snp: number;
  microcode: number;
}

function bytes(report: Buffer, offset: number, length: number): number[] {
  return [...report.subarray(offset, offset + length)];
}

function u64(report: Buffer, offset: number): number {
  const value = report.readBigUInt64LE(offset);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`SNP report field at 0x${offset.toString(16)} exceeds 2^53`);
  return Number(value);
}

function tcb(report: Buffer, offset: number, turin: boolean): SnpTcbVersion {
  const at = (index: number): number => report[offset + index]!;
  return turin
    ? { fmc: at(0), bootloader: at(1), tee: at(2), snp: at(3), microcode: at(7) }
    : { fmc: null, bootloader: at(0), tee: at(1), snp: at(6), microcode: at(7) };
}

function firmwareVersion(report: Buffer, offset: number): { major: number; minor: number; build: number } {
  return { major: report[offset + 2]!, minor: report[offset + 1]!, build: report[offset]! };
}

export function snpReportToJson(report: Buffer): Record<string, unknown> {
  if (report.length !== SNP_REPORT_SIZE) throw new Error(`SNP report must be ${SNP_REPORT_SIZE} bytes, got ${report.length}`);
  const version = report.readUInt32LE(0x00);
  if (version < 2) throw new Error(`SNP report version ${version} is not supported`);
  // CPUID bytes exist from version 3 on; a version 2 report has the Milan/Genoa TCB layout.
  const hasCpuid = version >= 3;
  const turin = hasCpuid && report[0x188] === TURIN_FAMILY;
  return {
    version,
    guest_svn: report.readUInt32LE(0x04),
    policy: u64(report, 0x08),
    family_id: bytes(report, 0x10, 16),
    image_id: bytes(report, 0x20, 16),
    vmpl: report.readUInt32LE(0x30),
    sig_algo: report.readUInt32LE(0x34),
    current_tcb: tcb(report, 0x38, turin),
    plat_info: u64(report, 0x40),
    key_info: report.readUInt32LE(0x48),
    report_data: bytes(report, 0x50, 64),
    measurement: bytes(report, 0x90, 48),
    host_data: bytes(report, 0xc0, 32),
    id_key_digest: bytes(report, 0xe0, 48),
    author_key_digest: bytes(report, 0x110, 48),
    report_id: bytes(report, 0x140, 32),
    report_id_ma: bytes(report, 0x160, 32),
    reported_tcb: tcb(report, 0x180, turin),
    cpuid_fam_id: hasCpuid ? report[0x188]! : null,
    cpuid_mod_id: hasCpuid ? report[0x189]! : null,
    cpuid_step: hasCpuid ? report[0x18a]! : null,
    chip_id: bytes(report, 0x1a0, 64),
    committed_tcb: tcb(report, 0x1e0, turin),
    current: firmwareVersion(report, 0x1e8),
    committed: firmwareVersion(report, 0x1ec),
    launch_tcb: tcb(report, 0x1f0, turin),
    // Mitigation vectors exist from version 5 on.
    ...(version >= 5 ? { launch_mit_vector: u64(report, 0x1f8), current_mit_vector: u64(report, 0x200) } : {}),
    signature: { r: bytes(report, 0x2a0, 72), s: bytes(report, 0x2e8, 72) },
  };
}
