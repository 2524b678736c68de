import { KbsError } from '../../../domain/errors.js';
import type { PckPlatform } from './sgx-extensions.js';
import type { TcbLevelOf, TdQeIdentity, TdxTcbInfo } from './tdx-collateral.js';
import type { QeReport, TdReportBody } from './tdx-quote.js';

/** The outcome of matching a quote against Intel's TCB info and QE identity. */
export interface TdxTcbEvaluation {
  /** Intel's status names: UpToDate, SWHardeningNeeded, ConfigurationNeeded, ConfigurationAndSWHardeningNeeded, OutOfDate, OutOfDateConfigurationNeeded, Revoked. */
  tcbStatus: string;
  advisoryIds: string[];
  /** tcbDate of the matched platform level. */
  tcbDate: string;
  tcbEvaluationDataNumber: number;
}

interface StatusFlags {
  revoked: boolean;
  outOfDate: boolean;
  configurationNeeded: boolean;
  swHardeningNeeded: boolean;
}

const FLAGS_BY_STATUS: Record<string, StatusFlags> = {
  UpToDate: { revoked: false, outOfDate: false, configurationNeeded: false, swHardeningNeeded: false },
  SWHardeningNeeded: { revoked: false, outOfDate: false, configurationNeeded: false, swHardeningNeeded: true },
  ConfigurationNeeded: { revoked: false, outOfDate: false, configurationNeeded: true, swHardeningNeeded: false },
  ConfigurationAndSWHardeningNeeded: { revoked: false, outOfDate: false, configurationNeeded: true, swHardeningNeeded: true },
  OutOfDate: { revoked: false, outOfDate: true, configurationNeeded: false, swHardeningNeeded: false },
  OutOfDateConfigurationNeeded: { revoked: false, outOfDate: true, configurationNeeded: true, swHardeningNeeded: false },
  Revoked: { revoked: true, outOfDate: false, configurationNeeded: false, swHardeningNeeded: false },
};

function flagsOf(status: string, what: string): StatusFlags {
  const flags = FLAGS_BY_STATUS[status];
  if (!flags) throw new KbsError('attestation-failed', `TDX collateral: ${what} has unknown TCB status ${JSON.stringify(status)}`);
  return flags;
}

/** The combined status of several matches: each condition of any part carries over (Revoked wins). */
function combine(statuses: { status: string; what: string }[]): string {
  const flags = statuses.map(({ status, what }) => flagsOf(status, what));
  const any = (key: keyof StatusFlags): boolean => flags.some((flag) => flag[key]);
  if (any('revoked')) return 'Revoked';
  if (any('outOfDate')) return any('configurationNeeded') ? 'OutOfDateConfigurationNeeded' : 'OutOfDate';
  if (any('configurationNeeded')) return any('swHardeningNeeded') ? 'ConfigurationAndSWHardeningNeeded' : 'ConfigurationNeeded';
  return any('swHardeningNeeded') ? 'SWHardeningNeeded' : 'UpToDate';
}

function maskedEquals(actual: Buffer, mask: Buffer, expected: Buffer): boolean {
  if (actual.length !== mask.length || expected.length !== mask.length) return false;
  return actual.every((byte, index) => (byte & mask[index]!) === (expected[index]! & mask[index]!));
}

function firstLevelAtMost<T extends { isvsvn: number }>(levels: TcbLevelOf<T>[], isvsvn: number): TcbLevelOf<T> | undefined {
  return levels.find((level) => level.tcb.isvsvn <= isvsvn);
}

/**
 * The first platform level the quote meets: every SGX component and PCESVN from the PCK certificate, and every
 * TDX component from TEE_TCB_SVN, at least the level's value. All 16 TDX components are compared.
 */
function matchPlatformLevel(tcbInfo: TdxTcbInfo, platform: PckPlatform, teeTcbSvn: Buffer): TcbLevelOf<TdxTcbInfo['tcbLevels'][number]['tcb']> {
  const level = tcbInfo.tcbLevels.find(({ tcb }) =>
    tcb.sgxtcbcomponents.every((svn, index) => platform.sgxTcbComponents[index]! >= svn)
    && platform.pceSvn >= tcb.pcesvn
    && tcb.tdxtcbcomponents.every((svn, index) => teeTcbSvn[index]! >= svn));
  if (!level) throw new KbsError('attestation-failed', 'TDX TCB: the platform matches no TCB level of the TCB info (TCB not supported)');
  return level;
}

/** TDX module: TDX 1.5 and later name their module identity in TEE_TCB_SVN[1]; TDX 1.0 checks only the module signer. */
function matchModule(tcbInfo: TdxTcbInfo, body: TdReportBody): TcbLevelOf<{ isvsvn: number }> | undefined {
  const majorVersion = body.teeTcbSvn[1]!;
  if (majorVersion === 0) {
    const expected = tcbInfo.tdxModule;
    if (!body.mrSignerSeam.equals(expected.mrsigner) || !maskedEquals(body.seamAttributes, expected.attributesMask, expected.attributes)) {
      throw new KbsError('attestation-failed', 'TDX TCB: the TDX module signer or attributes do not match the TCB info');
    }
    return undefined;
  }
  const id = `TDX_${majorVersion.toString(16).toUpperCase().padStart(2, '0')}`;
  const identity = tcbInfo.tdxModuleIdentities.find((candidate) => candidate.id === id);
  if (!identity) throw new KbsError('attestation-failed', `TDX TCB: the TCB info has no module identity ${id}`);
  if (!body.mrSignerSeam.equals(identity.mrsigner) || !maskedEquals(body.seamAttributes, identity.attributesMask, identity.attributes)) {
    throw new KbsError('attestation-failed', `TDX TCB: the TDX module signer or attributes do not match identity ${id}`);
  }
  const level = firstLevelAtMost(identity.tcbLevels, body.teeTcbSvn[0]!);
  if (!level) throw new KbsError('attestation-failed', `TDX TCB: the TDX module SVN matches no level of identity ${id}`);
  return level;
}

function matchQuotingEnclave(qeIdentity: TdQeIdentity, qeReport: QeReport): TcbLevelOf<{ isvsvn: number }> {
  const miscselectMatches = ((qeReport.miscSelect & qeIdentity.miscselectMask) >>> 0) === ((qeIdentity.miscselect & qeIdentity.miscselectMask) >>> 0);
  if (!qeReport.mrSigner.equals(qeIdentity.mrsigner) || qeReport.isvProdId !== qeIdentity.isvprodid || !miscselectMatches
    || !maskedEquals(qeReport.attributes, qeIdentity.attributesMask, qeIdentity.attributes)) {
    throw new KbsError('attestation-failed', 'TDX TCB: the quoting enclave does not match the TD_QE identity');
  }
  const level = firstLevelAtMost(qeIdentity.tcbLevels, qeReport.isvSvn);
  if (!level) throw new KbsError('attestation-failed', 'TDX TCB: the quoting enclave SVN matches no level of the TD_QE identity');
  return level;
}

/** Matches the platform (PCK + TEE_TCB_SVN), the TDX module and the quoting enclave; the result is their combination. */
export function evaluateTdxTcb(tcbInfo: TdxTcbInfo, qeIdentity: TdQeIdentity, platform: PckPlatform, body: TdReportBody, qeReport: QeReport): TdxTcbEvaluation {
  const fmspc = platform.fmspc.toString('hex');
  if (tcbInfo.fmspc !== fmspc) throw new KbsError('attestation-failed', `TDX TCB: the TCB info is for FMSPC ${tcbInfo.fmspc}, the PCK certificate says ${fmspc}`);
  if (tcbInfo.pceId !== platform.pceId.toString('hex')) throw new KbsError('attestation-failed', 'TDX TCB: the TCB info is for another PCE-ID');
  const platformLevel = matchPlatformLevel(tcbInfo, platform, body.teeTcbSvn);
  const moduleLevel = matchModule(tcbInfo, body);
  const qeLevel = matchQuotingEnclave(qeIdentity, qeReport);
  const parts = [
    { status: platformLevel.tcbStatus, what: 'the platform TCB level' },
    ...(moduleLevel ? [{ status: moduleLevel.tcbStatus, what: 'the TDX module level' }] : []),
    { status: qeLevel.tcbStatus, what: 'the TD_QE level' },
  ];
  const advisoryIds = [...new Set([...platformLevel.advisoryIDs, ...(moduleLevel?.advisoryIDs ?? []), ...qeLevel.advisoryIDs])].sort();
  return { tcbStatus: combine(parts), advisoryIds, tcbDate: platformLevel.tcbDate, tcbEvaluationDataNumber: tcbInfo.tcbEvaluationDataNumber };
}
