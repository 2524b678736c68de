/**
 * A fake Intel SGX PKI made at test time (root CA, PCK platform CA, PCK leaf with the SGX extensions, TCB
 * signing certificate, CRLs) and TD quotes and collateral signed with it, in Intel's formats.
 */
import { createHash, createPublicKey, generateKeyPairSync, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { buildCertificate, distinguishedName, extension, KEY_USAGE, randomSerial } from '../../../../src/pki/certificate-builder.js';
import { bitString, objectIdentifier, octetString, sequence, smallInteger, time, tlv, unsignedInteger } from '../../../../src/pki/der.js';
import { derToPem } from '../../../../src/pki/pem.js';
import { keyObjectSigner } from '../../../../src/pki/signer.js';
import type { TdxCollateral } from '../../../../src/attestation/verifiers/tdx/tdx-collateral.js';

export const FAKE_NOW = new Date('2026-03-01T12:00:00Z');
const DAY = 86400 * 1000;
const SGX = '1.2.840.113741.1.13.1';

interface FakeCa {
  key: KeyObject;
  der: Buffer;
  name: Buffer;
  spki: Buffer;
}

export interface FakePckPlatform {
  fmspc: Buffer;
  pceId: Buffer;
  sgxTcbComponents: number[];
  pceSvn: number;
}

export const DEFAULT_PLATFORM: FakePckPlatform = {
  fmspc: Buffer.from('00906ed50000', 'hex'),
  pceId: Buffer.from('0000', 'hex'),
  sgxTcbComponents: [3, 3, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0],
  pceSvn: 11,
};

function p256(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
}

function certificate(subject: string, key: KeyObject, issuer: FakeCa | 'self', options: { ca: boolean; extensions?: ReturnType<typeof sgxExtension>[]; notBefore?: Date; notAfter?: Date; serial?: Buffer }): FakeCa {
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const name = distinguishedName([['CN', subject], ['O', 'Fake Intel Corporation'], ['C', 'US']]);
  const signerKey = issuer === 'self' ? key : issuer.key;
  const der = buildCertificate({
    serial: options.serial ?? randomSerial(),
    issuerName: issuer === 'self' ? name : issuer.name,
    subjectName: name,
    notBefore: options.notBefore ?? new Date(FAKE_NOW.getTime() - 365 * DAY),
    notAfter: options.notAfter ?? new Date(FAKE_NOW.getTime() + 365 * DAY),
    subjectPublicKeyInfo: spki,
    extensions: [
      extension.basicConstraints(options.ca),
      extension.keyUsage(options.ca ? [KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign] : [KEY_USAGE.digitalSignature]),
      ...(options.extensions ?? []),
    ],
  }, keyObjectSigner(signerKey));
  return { key, der, name, spki };
}

/** Intel's SGX extension: PPID, TCB (16 component SVNs, PCESVN, CPUSVN), PCE-ID, FMSPC, SGX type. */
function sgxExtension(platform: FakePckPlatform): { oid: string; critical: boolean; value: Buffer } {
  const entry = (oid: string, value: Buffer): Buffer => sequence(objectIdentifier(oid), value);
  const tcb = sequence(
    ...platform.sgxTcbComponents.map((svn, index) => entry(`${SGX}.2.${index + 1}`, smallInteger(svn))),
    entry(`${SGX}.2.17`, unsignedInteger(Buffer.from([platform.pceSvn >> 8, platform.pceSvn & 0xff]))),
    entry(`${SGX}.2.18`, octetString(Buffer.from(platform.sgxTcbComponents))),
  );
  const value = sequence(
    entry(`${SGX}.1`, octetString(Buffer.alloc(16, 0x5a))),
    entry(`${SGX}.2`, tcb),
    entry(`${SGX}.3`, octetString(platform.pceId)),
    entry(`${SGX}.4`, octetString(platform.fmspc)),
    entry(`${SGX}.5`, tlv(0x0a, Buffer.from([1]))),
  );
  return { oid: SGX, critical: false, value };
}

export interface FakeIntelPki {
  root: FakeCa;
  rootFingerprint: string;
  platformCa: FakeCa;
  pck: FakeCa;
  pckSerial: Buffer;
  tcbSigning: FakeCa;
  /** Leaf, intermediate, root (PEM), as in certification data type 5. */
  pckChainPem: string;
  /** TCB signing certificate and root (PEM), as in the TCB-Info-Issuer-Chain header. */
  tcbSigningChainPem: string;
}

export function makeFakeIntelPki(options: { platform?: FakePckPlatform; pckNotAfter?: Date } = {}): FakeIntelPki {
  const root = certificate('Fake SGX Root CA', p256(), 'self', { ca: true });
  const platformCa = certificate('Fake SGX PCK Platform CA', p256(), root, { ca: true });
  const pckSerial = randomSerial();
  const pck = certificate('Fake SGX PCK Certificate', p256(), platformCa, {
    ca: false, serial: pckSerial, extensions: [sgxExtension(options.platform ?? DEFAULT_PLATFORM)], ...(options.pckNotAfter ? { notAfter: options.pckNotAfter } : {}),
  });
  const tcbSigning = certificate('Fake SGX TCB Signing', p256(), root, { ca: false });
  const pem = (ca: FakeCa): string => derToPem(ca.der, 'CERTIFICATE');
  return {
    root, platformCa, pck, pckSerial, tcbSigning,
    rootFingerprint: createHash('sha256').update(root.der).digest('hex'),
    pckChainPem: pem(pck) + pem(platformCa) + pem(root),
    tcbSigningChainPem: pem(tcbSigning) + pem(root),
  };
}

/** A DER CRL signed by `issuer` listing `revokedSerials`. */
export function makeCrl(issuer: FakeCa, revokedSerials: Buffer[], thisUpdate: Date, nextUpdate: Date): Buffer {
  const signer = keyObjectSigner(issuer.key);
  const revoked = revokedSerials.map((serial) => sequence(unsignedInteger(serial), time(thisUpdate)));
  const tbs = sequence(smallInteger(1), signer.algorithmIdentifier, issuer.name, time(thisUpdate), time(nextUpdate), ...(revoked.length ? [sequence(...revoked)] : []));
  return sequence(tbs, signer.algorithmIdentifier, bitString(signer.sign(tbs)));
}

export interface QuoteOptions {
  version?: 4 | 5;
  bodyType?: 2 | 3;
  reportData?: Buffer;
  mrTd?: Buffer;
  mrConfigId?: Buffer;
  /** u64 little-endian; bit 0 is DEBUG. */
  tdAttributes?: Buffer;
  teeTcbSvn?: Buffer;
  /** What the QE report's report_data holds instead of SHA-256(attestation key ‖ QE auth data) ‖ zeros. */
  qeReportData?: Buffer;
  qeIsvSvn?: number;
  /** Signs the QE report with this key instead of the PCK key. */
  qeSigningKey?: KeyObject;
  /** Signs the quote with this key instead of the attestation key. */
  quoteSigningKey?: KeyObject;
}

export const QE_MRSIGNER = Buffer.alloc(32, 0xdc);
export const QE_ISVPRODID = 2;
const TDX_MODULE_MRSIGNER = Buffer.alloc(48);

function u16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16LE(value);
  return buffer;
}

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32LE(value);
  return buffer;
}

function rawPublicKey(key: KeyObject): Buffer {
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  return Buffer.concat([Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
}

const p1363 = (data: Buffer, key: KeyObject): Buffer => sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });

/** A TD quote (v4, or v5 with body type 2 or 3) signed through the fake PKI, laid out as Intel's DCAP does. */
export function makeTdxQuote(pki: FakeIntelPki, options: QuoteOptions = {}): Buffer {
  const version = options.version ?? 4;
  const bodyType = version === 4 ? 2 : (options.bodyType ?? 3);
  const header = Buffer.concat([u16(version), u16(2), u32(0x81), Buffer.alloc(4), Buffer.from('939a7233f79c4ca9940a0db3957f0607', 'hex'), Buffer.alloc(20)]);
  const rtmr = (index: number): Buffer => Buffer.alloc(48, 0x10 + index);
  const body = Buffer.concat([
    options.teeTcbSvn ?? Buffer.from('03010300000000000000000000000000', 'hex'),
    Buffer.alloc(48, 0x11), TDX_MODULE_MRSIGNER, Buffer.alloc(8),
    options.tdAttributes ?? Buffer.from('0000001000000000', 'hex'),
    Buffer.from('e702060000000000', 'hex'),
    options.mrTd ?? Buffer.alloc(48, 0x7d),
    options.mrConfigId ?? Buffer.alloc(48),
    Buffer.alloc(48), Buffer.alloc(48),
    rtmr(0), rtmr(1), rtmr(2), rtmr(3),
    options.reportData ?? Buffer.alloc(64, 0x42),
    ...(bodyType === 3 ? [Buffer.alloc(16, 0x03), Buffer.alloc(48, 0x5e)] : []),
  ]);
  const signed = Buffer.concat([header, ...(version === 5 ? [u16(bodyType), u32(body.length)] : []), body]);

  const attestationKey = p256();
  const attestationKeyRaw = rawPublicKey(attestationKey);
  const qeAuthData = Buffer.alloc(32, 0xa5);
  const qeReport = Buffer.alloc(384);
  qeReport.writeUInt32LE(0, 16);
  Buffer.from('11000000000000000000000000000000', 'hex').copy(qeReport, 48);
  QE_MRSIGNER.copy(qeReport, 128);
  qeReport.writeUInt16LE(QE_ISVPRODID, 256);
  qeReport.writeUInt16LE(options.qeIsvSvn ?? 6, 258);
  const binding = Buffer.concat([createHash('sha256').update(attestationKeyRaw).update(qeAuthData).digest(), Buffer.alloc(32)]);
  (options.qeReportData ?? binding).copy(qeReport, 320);

  const pckChain = Buffer.concat([Buffer.from(pki.pckChainPem, 'latin1'), Buffer.from([0])]);
  const qeCertificationData = Buffer.concat([
    qeReport, p1363(qeReport, options.qeSigningKey ?? pki.pck.key),
    u16(qeAuthData.length), qeAuthData,
    u16(5), u32(pckChain.length), pckChain,
  ]);
  const signatureData = Buffer.concat([
    p1363(signed, options.quoteSigningKey ?? attestationKey), attestationKeyRaw,
    u16(6), u32(qeCertificationData.length), qeCertificationData,
  ]);
  return Buffer.concat([signed, u32(signatureData.length), signatureData]);
}

export interface CollateralOptions {
  platform?: FakePckPlatform;
  /** Platform levels, best first; default one UpToDate level equal to the platform. */
  platformLevels?: { status: string; pceSvn?: number; sgxTcbComponents?: number[]; tdxTcbComponents?: number[]; advisoryIds?: string[] }[];
  moduleStatus?: string;
  qeStatus?: string;
  issueDate?: Date;
  nextUpdate?: Date;
  pckCrl?: Buffer;
  rootCaCrl?: Buffer;
  /** Signs the TCB info with this key instead of the TCB signing key. */
  tcbInfoSigningKey?: KeyObject;
}

const hexUpper = (bytes: Buffer): string => bytes.toString('hex').toUpperCase();

function svns(values: number[]): { svn: number }[] {
  return values.map((svn) => ({ svn }));
}

/** TCB info (TDX, v3) and TD_QE identity (v2) for the fake platform, signed by the fake TCB signing key. */
export function makeTdxCollateral(pki: FakeIntelPki, options: CollateralOptions = {}): TdxCollateral {
  const platform = options.platform ?? DEFAULT_PLATFORM;
  const issueDate = (options.issueDate ?? new Date(FAKE_NOW.getTime() - DAY)).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const nextUpdate = (options.nextUpdate ?? new Date(FAKE_NOW.getTime() + 30 * DAY)).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const levels = options.platformLevels ?? [{ status: 'UpToDate' }];
  const tcbInfo = JSON.stringify({
    id: 'TDX', version: 3, issueDate, nextUpdate, fmspc: hexUpper(platform.fmspc), pceId: hexUpper(platform.pceId), tcbType: 0, tcbEvaluationDataNumber: 17,
    tdxModule: { mrsigner: hexUpper(TDX_MODULE_MRSIGNER), attributes: '0000000000000000', attributesMask: 'FFFFFFFFFFFFFFFF' },
    tdxModuleIdentities: [{
      id: 'TDX_01', mrsigner: hexUpper(TDX_MODULE_MRSIGNER), attributes: '0000000000000000', attributesMask: 'FFFFFFFFFFFFFFFF',
      tcbLevels: [{ tcb: { isvsvn: 3 }, tcbDate: '2025-01-01T00:00:00Z', tcbStatus: options.moduleStatus ?? 'UpToDate' }],
    }],
    tcbLevels: levels.map((level) => ({
      tcb: {
        sgxtcbcomponents: svns(level.sgxTcbComponents ?? platform.sgxTcbComponents),
        pcesvn: level.pceSvn ?? platform.pceSvn,
        tdxtcbcomponents: svns(level.tdxTcbComponents ?? [3, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
      },
      tcbDate: '2025-01-01T00:00:00Z',
      tcbStatus: level.status,
      ...(level.advisoryIds ? { advisoryIDs: level.advisoryIds } : {}),
    })),
  });
  const qeIdentity = JSON.stringify({
    id: 'TD_QE', version: 2, issueDate, nextUpdate, tcbEvaluationDataNumber: 17,
    miscselect: '00000000', miscselectMask: 'FFFFFFFF',
    attributes: '11000000000000000000000000000000', attributesMask: 'FBFFFFFFFFFFFFFF0000000000000000',
    mrsigner: hexUpper(QE_MRSIGNER), isvprodid: QE_ISVPRODID,
    tcbLevels: [{ tcb: { isvsvn: 4 }, tcbDate: '2025-01-01T00:00:00Z', tcbStatus: options.qeStatus ?? 'UpToDate' }],
  });
  return {
    tcbInfo: { text: tcbInfo, signature: p1363(Buffer.from(tcbInfo), options.tcbInfoSigningKey ?? pki.tcbSigning.key) },
    tcbInfoIssuerChain: pki.tcbSigningChainPem,
    qeIdentity: { text: qeIdentity, signature: p1363(Buffer.from(qeIdentity), pki.tcbSigning.key) },
    qeIdentityIssuerChain: pki.tcbSigningChainPem,
    ...(options.pckCrl ? { pckCrl: options.pckCrl } : {}),
    ...(options.rootCaCrl ? { rootCaCrl: options.rootCaCrl } : {}),
  };
}

/** Intel PCS response bodies for the collateral: `{"tcbInfo": ..., "signature": "<hex>"}`. */
export function pcsBodies(collateral: TdxCollateral): { tcbInfo: string; qeIdentity: string } {
  return {
    tcbInfo: `{"tcbInfo":${collateral.tcbInfo.text},"signature":"${collateral.tcbInfo.signature.toString('hex')}"}`,
    qeIdentity: `{"enclaveIdentity":${collateral.qeIdentity.text},"signature":"${collateral.qeIdentity.signature.toString('hex')}"}`,
  };
}

export function x509(ca: FakeCa): X509Certificate {
  return new X509Certificate(ca.der);
}
