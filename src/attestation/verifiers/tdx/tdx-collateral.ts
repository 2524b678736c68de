import { verify, type X509Certificate } from 'node:crypto';
import { KbsError } from '../../../domain/errors.js';
import { chainValidity, readPemChain, verifyChainSignatures } from './intel-chain.js';
import { checkCrl, isRevoked, type CheckedCrl } from './intel-crl.js';
import { readSignature, type SignedJson } from './signed-json.js';

/** Collateral for one FMSPC as Intel PCS (or a PCCS) serves it: signed JSON, issuer chains (PEM), DER CRLs. */
export interface TdxCollateral {
  tcbInfo: SignedJson;
  tcbInfoIssuerChain: string;
  qeIdentity: SignedJson;
  qeIdentityIssuerChain: string;
  /** The CRL of the CA that issued the PCK certificate (Platform or Processor CA). */
  pckCrl?: Buffer;
  /** The Intel SGX Root CA's CRL (lists revoked intermediates). */
  rootCaCrl?: Buffer;
}

export interface TcbLevelOf<T> {
  tcb: T;
  tcbDate: string;
  tcbStatus: string;
  advisoryIDs: string[];
}

export interface PlatformTcb {
  sgxtcbcomponents: number[];
  pcesvn: number;
  tdxtcbcomponents: number[];
}

export interface TdxModuleIdentity {
  id: string;
  mrsigner: Buffer;
  attributes: Buffer;
  attributesMask: Buffer;
  tcbLevels: TcbLevelOf<{ isvsvn: number }>[];
}

export interface TdxTcbInfo {
  fmspc: string;
  pceId: string;
  issueDate: Date;
  nextUpdate: Date;
  tcbEvaluationDataNumber: number;
  tdxModule: { mrsigner: Buffer; attributes: Buffer; attributesMask: Buffer };
  tdxModuleIdentities: TdxModuleIdentity[];
  tcbLevels: TcbLevelOf<PlatformTcb>[];
}

export interface TdQeIdentity {
  issueDate: Date;
  nextUpdate: Date;
  miscselect: number;
  miscselectMask: number;
  attributes: Buffer;
  attributesMask: Buffer;
  mrsigner: Buffer;
  isvprodid: number;
  tcbLevels: TcbLevelOf<{ isvsvn: number }>[];
}

/** A validity window of one collateral item, checked against each verification time. */
export interface ValidityWindow {
  what: string;
  notBefore: Date;
  notAfter: Date;
}

/** Collateral whose signatures and chains were checked once; only time-dependent checks remain per quote. */
export interface VerifiedTdxCollateral {
  tcbInfo: TdxTcbInfo;
  qeIdentity: TdQeIdentity;
  windows: ValidityWindow[];
  /** Checked against the quote's PCK issuer, once per issuer (the CRL must be signed by the PCK's CA). */
  pckCrlFor(issuer: X509Certificate): CheckedCrl | undefined;
  /** True when the root CA's CRL lists this certificate. */
  revokedByRoot(certificate: X509Certificate): boolean;
}

function invalid(detail: string): KbsError {
  return new KbsError('attestation-failed', `TDX collateral: ${detail}`);
}

type Json = Record<string, unknown>;

function object(value: unknown, what: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${what} is not an object`);
  return value as Json;
}

function array(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw invalid(`${what} is not an array`);
  return value;
}

function integer(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw invalid(`${what} is not a non-negative integer`);
  return value;
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string') throw invalid(`${what} is not a string`);
  return value;
}

function hexBytes(value: unknown, what: string, length: number): Buffer {
  const hex = text(value, what);
  if (hex.length !== length * 2 || !/^[0-9a-fA-F]*$/.test(hex)) throw invalid(`${what} is not ${length} bytes of hex`);
  return Buffer.from(hex, 'hex');
}

function date(value: unknown, what: string): Date {
  const parsed = new Date(text(value, what));
  if (Number.isNaN(parsed.getTime())) throw invalid(`${what} is not a date`);
  return parsed;
}

function parseDocument(signed: SignedJson, what: string): Json {
  try {
    return object(JSON.parse(signed.text), what);
  } catch (error) {
    if (error instanceof KbsError) throw error;
    throw invalid(`${what} is not JSON`);
  }
}

function tcbLevels<T>(value: unknown, what: string, readTcb: (tcb: Json, where: string) => T): TcbLevelOf<T>[] {
  return array(value, what).map((entry, index) => {
    const level = object(entry, `${what}[${index}]`);
    return {
      tcb: readTcb(object(level.tcb, `${what}[${index}].tcb`), `${what}[${index}].tcb`),
      tcbDate: text(level.tcbDate, `${what}[${index}].tcbDate`),
      tcbStatus: text(level.tcbStatus, `${what}[${index}].tcbStatus`),
      advisoryIDs: level.advisoryIDs === undefined ? [] : array(level.advisoryIDs, `${what}[${index}].advisoryIDs`).map((id) => text(id, 'advisory id')),
    };
  });
}

function svnList(value: unknown, what: string): number[] {
  const list = array(value, what).map((component, index) => integer(object(component, `${what}[${index}]`).svn, `${what}[${index}].svn`));
  if (list.length !== 16) throw invalid(`${what} must list 16 components`);
  return list;
}

const isvsvnTcb = (tcb: Json, where: string): { isvsvn: number } => ({ isvsvn: integer(tcb.isvsvn, `${where}.isvsvn`) });

function parseTcbInfo(signed: SignedJson): TdxTcbInfo {
  const info = parseDocument(signed, 'tcbInfo');
  if (info.id !== 'TDX') throw invalid(`tcbInfo id is ${JSON.stringify(info.id)}, not "TDX"`);
  if (info.version !== 3) throw invalid(`tcbInfo version ${JSON.stringify(info.version)} is not supported (3)`);
  const module = object(info.tdxModule, 'tcbInfo.tdxModule');
  return {
    fmspc: text(info.fmspc, 'tcbInfo.fmspc').toLowerCase(),
    pceId: text(info.pceId, 'tcbInfo.pceId').toLowerCase(),
    issueDate: date(info.issueDate, 'tcbInfo.issueDate'),
    nextUpdate: date(info.nextUpdate, 'tcbInfo.nextUpdate'),
    tcbEvaluationDataNumber: integer(info.tcbEvaluationDataNumber, 'tcbInfo.tcbEvaluationDataNumber'),
    tdxModule: {
      mrsigner: hexBytes(module.mrsigner, 'tdxModule.mrsigner', 48),
      attributes: hexBytes(module.attributes, 'tdxModule.attributes', 8),
      attributesMask: hexBytes(module.attributesMask, 'tdxModule.attributesMask', 8),
    },
    tdxModuleIdentities: (info.tdxModuleIdentities === undefined ? [] : array(info.tdxModuleIdentities, 'tdxModuleIdentities')).map((entry, index) => {
      const identity = object(entry, `tdxModuleIdentities[${index}]`);
      return {
        id: text(identity.id, `tdxModuleIdentities[${index}].id`),
        mrsigner: hexBytes(identity.mrsigner, `tdxModuleIdentities[${index}].mrsigner`, 48),
        attributes: hexBytes(identity.attributes, `tdxModuleIdentities[${index}].attributes`, 8),
        attributesMask: hexBytes(identity.attributesMask, `tdxModuleIdentities[${index}].attributesMask`, 8),
        tcbLevels: tcbLevels(identity.tcbLevels, `tdxModuleIdentities[${index}].tcbLevels`, isvsvnTcb),
      };
    }),
    tcbLevels: tcbLevels(info.tcbLevels, 'tcbInfo.tcbLevels', (tcb, where) => ({
      sgxtcbcomponents: svnList(tcb.sgxtcbcomponents, `${where}.sgxtcbcomponents`),
      pcesvn: integer(tcb.pcesvn, `${where}.pcesvn`),
      tdxtcbcomponents: svnList(tcb.tdxtcbcomponents, `${where}.tdxtcbcomponents`),
    })),
  };
}

function parseQeIdentity(signed: SignedJson): TdQeIdentity {
  const identity = parseDocument(signed, 'enclaveIdentity');
  if (identity.id !== 'TD_QE') throw invalid(`enclaveIdentity id is ${JSON.stringify(identity.id)}, not "TD_QE"`);
  if (identity.version !== 2) throw invalid(`enclaveIdentity version ${JSON.stringify(identity.version)} is not supported (2)`);
  return {
    issueDate: date(identity.issueDate, 'enclaveIdentity.issueDate'),
    nextUpdate: date(identity.nextUpdate, 'enclaveIdentity.nextUpdate'),
    miscselect: hexBytes(identity.miscselect, 'enclaveIdentity.miscselect', 4).readUInt32BE(0),
    miscselectMask: hexBytes(identity.miscselectMask, 'enclaveIdentity.miscselectMask', 4).readUInt32BE(0),
    attributes: hexBytes(identity.attributes, 'enclaveIdentity.attributes', 16),
    attributesMask: hexBytes(identity.attributesMask, 'enclaveIdentity.attributesMask', 16),
    mrsigner: hexBytes(identity.mrsigner, 'enclaveIdentity.mrsigner', 32),
    isvprodid: integer(identity.isvprodid, 'enclaveIdentity.isvprodid'),
    tcbLevels: tcbLevels(identity.tcbLevels, 'enclaveIdentity.tcbLevels', isvsvnTcb),
  };
}

/** Checks the signed JSON with the leaf of its issuer chain, which must lead to a pinned root. */
function verifySignedJson(signed: SignedJson, issuerChainPem: string, trustedRoots: ReadonlySet<string>, what: string): X509Certificate[] {
  const chain = readPemChain(issuerChainPem, `TDX collateral: ${what} issuer chain`, 'attestation-failed');
  verifyChainSignatures(chain, trustedRoots, `${what} issuer chain`);
  // Only the TCB signing certificate, which the root issues directly, signs collateral: not a PCK certificate,
  // whose key sits in a platform, and not a CA.
  if (chain.length !== 2 || chain[0]!.ca) throw invalid(`${what} must be signed by a TCB signing certificate issued directly by the root`);
  const signedBytes = Buffer.from(signed.text, 'utf8');
  if (!verify('sha256', signedBytes, { key: chain[0]!.publicKey, dsaEncoding: 'ieee-p1363' }, signed.signature)) {
    throw invalid(`${what} signature does not verify with the TCB signing certificate`);
  }
  return chain;
}

function chainWindow(chain: readonly X509Certificate[], what: string): ValidityWindow {
  return { what, ...chainValidity(chain) };
}

/**
 * Verifies collateral once: the TCB info and QE identity signatures with their issuer chains up to a pinned root,
 * the root CA's CRL with that root. Returns the parsed documents, every validity window to compare with the
 * verification time, and a per-issuer check of the PCK CRL.
 */
export function verifyTdxCollateral(collateral: TdxCollateral, trustedRoots: ReadonlySet<string>): VerifiedTdxCollateral {
  const tcbChain = verifySignedJson(collateral.tcbInfo, collateral.tcbInfoIssuerChain, trustedRoots, 'TCB info');
  const qeChain = verifySignedJson(collateral.qeIdentity, collateral.qeIdentityIssuerChain, trustedRoots, 'QE identity');
  const tcbInfo = parseTcbInfo(collateral.tcbInfo);
  const qeIdentity = parseQeIdentity(collateral.qeIdentity);
  const windows: ValidityWindow[] = [
    { what: 'TDX collateral: TCB info', notBefore: tcbInfo.issueDate, notAfter: tcbInfo.nextUpdate },
    { what: 'TDX collateral: QE identity', notBefore: qeIdentity.issueDate, notAfter: qeIdentity.nextUpdate },
    chainWindow(tcbChain, 'TDX collateral: TCB info issuer chain'),
    chainWindow(qeChain, 'TDX collateral: QE identity issuer chain'),
  ];

  let rootCrl: CheckedCrl | undefined;
  if (collateral.rootCaCrl) {
    rootCrl = checkCrl(collateral.rootCaCrl, tcbChain[tcbChain.length - 1]!, 'TDX collateral: root CA CRL');
    windows.push({ what: 'TDX collateral: root CA CRL', notBefore: rootCrl.thisUpdate, notAfter: rootCrl.nextUpdate });
    if (isRevoked(rootCrl, tcbChain[0]!) || isRevoked(rootCrl, qeChain[0]!)) throw invalid('the TCB signing certificate is revoked');
  }

  const pckCrlByIssuer = new Map<string, CheckedCrl>();
  const pckCrl = collateral.pckCrl;
  return {
    tcbInfo,
    qeIdentity,
    windows,
    pckCrlFor(issuer) {
      if (!pckCrl) return undefined;
      const key = issuer.fingerprint256;
      let checked = pckCrlByIssuer.get(key);
      if (!checked) {
        checked = checkCrl(pckCrl, issuer, 'TDX collateral: PCK CRL');
        pckCrlByIssuer.set(key, checked);
      }
      return checked;
    },
    revokedByRoot: (certificate) => rootCrl !== undefined && isRevoked(rootCrl, certificate),
  };
}

/** The collateral bundle as dcap-qvl and PCCS tooling store it: one JSON object of strings (CRLs as hex DER). */
export function tdxCollateralFromBundle(json: string): TdxCollateral {
  let bundle: Json;
  try {
    bundle = object(JSON.parse(json), 'collateral bundle');
  } catch (error) {
    if (error instanceof KbsError) throw error;
    throw invalid('the collateral bundle is not JSON');
  }
  const optionalHex = (key: string): Buffer | undefined => {
    if (bundle[key] === undefined || bundle[key] === null) return undefined;
    const hex = text(bundle[key], key);
    if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) throw invalid(`${key} is not hex`);
    return Buffer.from(hex, 'hex');
  };
  const pckCrl = optionalHex('pck_crl');
  const rootCaCrl = optionalHex('root_ca_crl');
  return {
    tcbInfo: { text: text(bundle.tcb_info, 'tcb_info'), signature: readSignature(bundle.tcb_info_signature, 'tcb_info') },
    tcbInfoIssuerChain: text(bundle.tcb_info_issuer_chain, 'tcb_info_issuer_chain'),
    qeIdentity: { text: text(bundle.qe_identity, 'qe_identity'), signature: readSignature(bundle.qe_identity_signature, 'qe_identity') },
    qeIdentityIssuerChain: text(bundle.qe_identity_issuer_chain, 'qe_identity_issuer_chain'),
    ...(pckCrl ? { pckCrl } : {}),
    ...(rootCaCrl ? { rootCaCrl } : {}),
  };
}
