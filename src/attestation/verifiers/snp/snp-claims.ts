import type { Claims } from '../../../domain/claims.js';
import {
  PLATFORM_SMT_EN, PLATFORM_TSME_EN, POLICY_MIGRATE_MA, POLICY_SINGLE_SOCKET, POLICY_SMT, SigningKey, type SnpProduct, type SnpReport, type TcbParts,
} from './snp-report.js';

/**
 * What the SNP verifier establishes about the TCB: the reported TCB is exactly the one AMD certified in the VCEK/VLEK.
 * AMD publishes no machine-readable "latest TCB", so this is not "UpToDate"; policies compare `reported_tcb_*` instead.
 */
export const SNP_TCB_STATUS = 'Endorsed';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
/** u64 report fields as JSON numbers while exact, else as 0x-hex. */
const u64 = (value: bigint): number | string => (value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : `0x${value.toString(16)}`);

/**
 * Normalized claims (PROTOCOL.md 1.4) with `tee_claims` named like trustee's `snp.*` parsed claims, flattened and
 * without the prefix; byte fields as lowercase hex in report byte order.
 */
export function snpClaims(
  report: SnpReport,
  verified: { name: string; product: SnpProduct; reportedTcb: TcbParts; debug: boolean },
): Omit<Claims, 'iat'> {
  const { policy, platformInfo } = report;
  const tcb = verified.reportedTcb;
  return {
    v: 1,
    tee: 'snp',
    verifier: verified.name,
    // As for a debug TD: the configuration is in the warning tier, so the result is (AR4SI: the worst tier wins).
    status: verified.debug ? 'warning' : 'affirming',
    tcb_status: SNP_TCB_STATUS,
    measurement: hex(report.measurement),
    // Hardware genuine and its TCB certified (2); the launch measurement is not compared with references here (0);
    // a debuggable guest (accepted only when configured) is an unsafe configuration (32), otherwise approved (2).
    trust_vector: { hardware: 2, executables: 0, configuration: verified.debug ? 32 : 2 },
    tee_claims: {
      version: report.version,
      product: verified.product,
      signing_key: report.signingKey === SigningKey.Vcek ? 'vcek' : 'vlek',
      measurement: hex(report.measurement),
      report_data: hex(report.reportData),
      host_data: hex(report.hostData),
      chip_id: hex(report.chipId),
      family_id: hex(report.familyId),
      image_id: hex(report.imageId),
      id_key_digest: hex(report.idKeyDigest),
      report_id: hex(report.reportId),
      guest_svn: report.guestSvn,
      vmpl: report.vmpl,
      policy: u64(policy),
      policy_abi_major: Number((policy >> 8n) & 0xffn),
      policy_abi_minor: Number(policy & 0xffn),
      policy_smt_allowed: (policy & POLICY_SMT) !== 0n,
      policy_migrate_ma: (policy & POLICY_MIGRATE_MA) !== 0n,
      policy_debug_allowed: verified.debug,
      policy_single_socket: (policy & POLICY_SINGLE_SOCKET) !== 0n,
      platform_info: u64(platformInfo),
      platform_smt_enabled: (platformInfo & PLATFORM_SMT_EN) !== 0n,
      platform_tsme_enabled: (platformInfo & PLATFORM_TSME_EN) !== 0n,
      ...(tcb.fmc !== undefined ? { reported_tcb_fmc: tcb.fmc } : {}),
      reported_tcb_bootloader: tcb.bootloader,
      reported_tcb_tee: tcb.tee,
      reported_tcb_snp: tcb.snp,
      reported_tcb_microcode: tcb.microcode,
    },
  };
}
