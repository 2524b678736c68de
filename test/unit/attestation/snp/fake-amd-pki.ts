/**
 * A fake AMD hierarchy made at test time, in AMD's formats: RSA-4096 ARK and ASK signing with RSASSA-PSS SHA-384
 * (salt 48), P-384 VCEK/VLEK with AMD's extensions, and SEV-SNP reports signed by them.
 */
import { constants, createHash, createPublicKey, generateKeyPair, randomBytes, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import {
  explicit, objectIdentifier, octetString, sequence, set, smallInteger, tlv, unsignedInteger, utf8String, bitString, time,
} from '../../../../src/pki/der.js';

const generate = promisify(generateKeyPair);

export const PSS_ALGORITHM = sequence(
  objectIdentifier('1.2.840.113549.1.1.10'),
  sequence(
    explicit(0, sequence(objectIdentifier('2.16.840.1.101.3.4.2.2'), tlv(0x05))),
    explicit(1, sequence(objectIdentifier('1.2.840.113549.1.1.8'), sequence(objectIdentifier('2.16.840.1.101.3.4.2.2'), tlv(0x05)))),
    explicit(2, smallInteger(48)),
  ),
);
const SHA256_WITH_RSA = sequence(objectIdentifier('1.2.840.113549.1.1.11'), tlv(0x05));

const name = (commonName: string): Buffer => sequence(set(sequence(objectIdentifier('2.5.4.3'), utf8String(commonName))));

export interface CertificateSpec {
  subject: string;
  issuer: string;
  publicKey: KeyObject;
  signingKey: KeyObject;
  notBefore?: Date;
  notAfter?: Date;
  /** [dotted OID, extnValue contents] */
  extensions?: [string, Buffer][];
  /** Sign with sha256WithRSAEncryption instead of AMD's RSASSA-PSS. */
  pkcs1?: boolean;
}

export function makeCertificate(spec: CertificateSpec): Buffer {
  const algorithm = spec.pkcs1 ? SHA256_WITH_RSA : PSS_ALGORITHM;
  const extensions = spec.extensions ?? [];
  const tbs = sequence(
    explicit(0, smallInteger(2)),
    unsignedInteger(randomBytes(8)),
    algorithm,
    name(spec.issuer),
    sequence(time(spec.notBefore ?? new Date('2024-01-01T00:00:00Z')), time(spec.notAfter ?? new Date('2040-01-01T00:00:00Z'))),
    name(spec.subject),
    createPublicKey(spec.publicKey).export({ type: 'spki', format: 'der' }),
    ...(extensions.length > 0 ? [explicit(3, sequence(...extensions.map(([oid, value]) => sequence(objectIdentifier(oid), octetString(value)))))] : []),
  );
  const signature = spec.pkcs1
    ? sign('sha256', tbs, spec.signingKey)
    : sign('sha384', tbs, { key: spec.signingKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 });
  return sequence(tbs, algorithm, bitString(signature));
}

/** An ARK's CRL in AMD's format: RSASSA-PSS SHA-384, the given serials (hex) revoked. */
export function makeCrl(spec: { issuer: string; signingKey: KeyObject; thisUpdate: Date; nextUpdate: Date; revoked?: string[] }): Buffer {
  const entries = (spec.revoked ?? []).map((serial) => sequence(unsignedInteger(Buffer.from(serial.padStart(serial.length + (serial.length % 2), '0'), 'hex')), time(spec.thisUpdate)));
  const tbs = sequence(
    smallInteger(1),
    PSS_ALGORITHM,
    name(spec.issuer),
    time(spec.thisUpdate),
    time(spec.nextUpdate),
    ...(entries.length > 0 ? [sequence(...entries)] : []),
  );
  const signature = sign('sha384', tbs, { key: spec.signingKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 });
  return sequence(tbs, PSS_ALGORITHM, bitString(signature));
}

export const derInteger = (value: number): Buffer => smallInteger(value);
export const ia5 = (text: string): Buffer => tlv(0x16, Buffer.from(text, 'ascii'));

export interface Tcb {
  fmc?: number;
  bootloader: number;
  tee: number;
  snp: number;
  microcode: number;
}

export function vcekExtensions(options: { product: string; tcb: Tcb; hwId?: Buffer }): [string, Buffer][] {
  return [
    ['1.3.6.1.4.1.3704.1.2', ia5(options.product)],
    ['1.3.6.1.4.1.3704.1.3.1', derInteger(options.tcb.bootloader)],
    ['1.3.6.1.4.1.3704.1.3.2', derInteger(options.tcb.tee)],
    ['1.3.6.1.4.1.3704.1.3.3', derInteger(options.tcb.snp)],
    ['1.3.6.1.4.1.3704.1.3.8', derInteger(options.tcb.microcode)],
    ...(options.tcb.fmc !== undefined ? [['1.3.6.1.4.1.3704.1.3.9', derInteger(options.tcb.fmc)] as [string, Buffer]] : []),
    ...(options.hwId ? [['1.3.6.1.4.1.3704.1.4', options.hwId] as [string, Buffer]] : []),
  ];
}

export interface FakeAmd {
  arkKey: KeyObject;
  askKey: KeyObject;
  /** An RSA key that is not part of the hierarchy. */
  rogueKey: KeyObject;
  ark: Buffer;
  ask: Buffer;
  asvk: Buffer;
  arkSha256: string;
  product: 'Milan' | 'Turin';
}

let hierarchy: Promise<FakeAmd> | undefined;

/** One fake ARK/ASK/ASVK per test run (RSA-4096 key generation is slow), CNs as AMD's for Milan. */
export function fakeAmd(): Promise<FakeAmd> {
  hierarchy ??= (async () => {
    const rsa = (bits: number) => generate('rsa', { modulusLength: bits }).then((pair) => pair.privateKey);
    const [arkKey, askKey, rogueKey] = await Promise.all([rsa(4096), rsa(4096), rsa(2048)]);
    const ark = makeCertificate({ subject: 'ARK-Milan', issuer: 'ARK-Milan', publicKey: arkKey, signingKey: arkKey });
    const ask = makeCertificate({ subject: 'SEV-Milan', issuer: 'ARK-Milan', publicKey: askKey, signingKey: arkKey });
    const asvk = makeCertificate({ subject: 'SEV-VLEK-Milan', issuer: 'ARK-Milan', publicKey: askKey, signingKey: arkKey });
    return { arkKey, askKey, rogueKey, ark, ask, asvk, arkSha256: createHash('sha256').update(ark).digest('hex'), product: 'Milan' };
  })();
  return hierarchy;
}

export function p384Key(): Promise<KeyObject> {
  return generate('ec', { namedCurve: 'P-384' }).then((pair) => pair.privateKey);
}

export interface ReportSpec {
  version?: number;
  /** CPUID family and model (version 3 and later). */
  family?: number;
  model?: number;
  policy?: bigint;
  vmpl?: number;
  signingKey?: 0 | 1;
  reportData?: Buffer;
  measurement?: Buffer;
  hostData?: Buffer;
  /** The 8 TCB bytes as the product lays them out. */
  reportedTcb: Buffer;
  chipId?: Buffer;
}

/** A SEV-SNP report per the ABI layout, signed with `key` (r and s little-endian in 72-byte fields). */
export function makeReport(spec: ReportSpec, key: KeyObject): Buffer {
  const report = Buffer.alloc(0x4a0);
  report.writeUInt32LE(spec.version ?? 3, 0x00);
  report.writeBigUInt64LE(spec.policy ?? 0x30000n, 0x08);
  report.writeUInt32LE(spec.vmpl ?? 0, 0x30);
  report.writeUInt32LE(1, 0x34);
  report.writeUInt32LE((spec.signingKey ?? 0) << 2, 0x48);
  (spec.reportData ?? Buffer.alloc(64)).copy(report, 0x50);
  (spec.measurement ?? Buffer.alloc(48, 0xab)).copy(report, 0x90);
  (spec.hostData ?? Buffer.alloc(32)).copy(report, 0xc0);
  spec.reportedTcb.copy(report, 0x38);
  spec.reportedTcb.copy(report, 0x180);
  if ((spec.version ?? 3) >= 3) {
    report[0x188] = spec.family ?? 0x19;
    report[0x189] = spec.model ?? 0x01;
  }
  (spec.chipId ?? Buffer.alloc(64, 0x5c)).copy(report, 0x1a0);
  return signReport(report, key);
}

/** (Re-)signs the first 0x2A0 bytes in place. */
export function signReport(report: Buffer, key: KeyObject): Buffer {
  const signature = sign('sha384', report.subarray(0, 0x2a0), { key, dsaEncoding: 'ieee-p1363' });
  report.fill(0, 0x2a0);
  Buffer.from(signature.subarray(0, 48)).reverse().copy(report, 0x2a0);
  Buffer.from(signature.subarray(48)).reverse().copy(report, 0x2e8);
  return report;
}

/** Milan/Genoa TCB bytes: bootloader, tee, 4 reserved, snp, microcode. */
export const milanTcb = (tcb: Tcb): Buffer => Buffer.from([tcb.bootloader, tcb.tee, 0, 0, 0, 0, tcb.snp, tcb.microcode]);
/** Turin TCB bytes: fmc, bootloader, tee, snp, 3 reserved, microcode. */
export const turinTcb = (tcb: Tcb): Buffer => Buffer.from([tcb.fmc ?? 0, tcb.bootloader, tcb.tee, tcb.snp, 0, 0, 0, tcb.microcode]);
