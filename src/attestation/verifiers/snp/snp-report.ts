import { KbsError } from '../../../domain/errors.js';

/** AMD EPYC product lines with their own ARK. */
export const SNP_PRODUCTS = ['Milan', 'Genoa', 'Turin'] as const;
export type SnpProduct = (typeof SNP_PRODUCTS)[number];

/** SEV-SNP ABI: the attestation report is 1184 bytes; bytes 0x000-0x29F are signed, the signature follows. */
export const SNP_REPORT_SIZE = 0x4a0;
export const SNP_SIGNED_SIZE = 0x2a0;
const SIGNATURE_COMPONENT_SIZE = 72;

export const enum SigningKey {
  Vcek = 0,
  Vlek = 1,
}

export interface TcbParts {
  /** Turin only. */
  fmc?: number;
  bootloader: number;
  tee: number;
  snp: number;
  microcode: number;
}

/** A report split by offset. Byte fields are views into `bytes`; integers are little-endian in the report. */
export interface SnpReport {
  bytes: Buffer;
  version: number;
  guestSvn: number;
  policy: bigint;
  familyId: Buffer;
  imageId: Buffer;
  vmpl: number;
  signatureAlgo: number;
  platformInfo: bigint;
  signingKey: SigningKey;
  reportData: Buffer;
  measurement: Buffer;
  hostData: Buffer;
  idKeyDigest: Buffer;
  authorKeyDigest: Buffer;
  reportId: Buffer;
  reportIdMa: Buffer;
  /** The TCB the firmware reports; the VCEK/VLEK is issued for exactly this one. */
  reportedTcb: Buffer;
  /** From CPUID (report version 3 and later); a version 2 report does not say. */
  product?: SnpProduct;
  chipId: Buffer;
  /** IEEE P1363 r||s (big-endian, 48 bytes each) for node:crypto. */
  signature: Buffer;
}

/** Guest policy bits (SEV-SNP ABI, GUEST_POLICY). */
export const POLICY_SMT = 1n << 16n;
export const POLICY_MIGRATE_MA = 1n << 18n;
export const POLICY_DEBUG = 1n << 19n;
export const POLICY_SINGLE_SOCKET = 1n << 20n;
/** PLATFORM_INFO bits. */
export const PLATFORM_SMT_EN = 1n << 0n;
export const PLATFORM_TSME_EN = 1n << 1n;

const ECDSA_P384_SHA384 = 1;

function badReport(detail: string): KbsError {
  return new KbsError('bad-evidence-format', `SNP report: ${detail}`);
}

/** The product from CPUID family and model (extended values, as the report holds them). */
export function productFromCpuid(family: number, model: number): SnpProduct | undefined {
  if (family === 0x19 && model <= 0x0f) return 'Milan';
  if (family === 0x19 && ((model >= 0x10 && model <= 0x1f) || (model >= 0xa0 && model <= 0xaf))) return 'Genoa';
  if (family === 0x1a && model <= 0x1f) return 'Turin';
  return undefined;
}

/** A 72-byte little-endian signature component as a 48-byte big-endian P-384 scalar; the high bytes must be zero. */
function p384Component(littleEndian: Buffer): Buffer {
  const bigEndian = Buffer.from(littleEndian).reverse();
  const excess = SIGNATURE_COMPONENT_SIZE - 48;
  if (bigEndian.subarray(0, excess).some((byte) => byte !== 0)) throw new KbsError('attestation-failed', 'SNP report signature does not verify (component out of range)');
  return bigEndian.subarray(excess);
}

/** Parses report versions 2 to 5 by offset. Throws `bad-evidence-format` for a buffer of the wrong size or an unknown version. */
export function parseSnpReport(input: Uint8Array): SnpReport {
  if (input.length !== SNP_REPORT_SIZE) {
    throw badReport(`must be exactly ${SNP_REPORT_SIZE} bytes, got ${input.length} (${input.length < SNP_REPORT_SIZE ? 'truncated' : 'trailing bytes'})`);
  }
  const bytes = Buffer.from(input);
  const version = bytes.readUInt32LE(0x00);
  if (version < 2 || version > 5) throw badReport(`version ${version} is not supported (2 to 5)`);
  const signatureAlgo = bytes.readUInt32LE(0x34);
  if (signatureAlgo !== ECDSA_P384_SHA384) throw badReport(`signature algorithm ${signatureAlgo} is not ECDSA P-384 with SHA-384`);
  const signingKeyField = (bytes.readUInt32LE(0x48) >> 2) & 0x7;
  if (signingKeyField !== SigningKey.Vcek && signingKeyField !== SigningKey.Vlek) {
    throw badReport(`signing key ${signingKeyField} is neither VCEK (0) nor VLEK (1)`);
  }
  let product: SnpProduct | undefined;
  if (version >= 3) {
    const family = bytes[0x188]!;
    const model = bytes[0x189]!;
    product = productFromCpuid(family, model);
    if (product === undefined) throw badReport(`CPU family 0x${family.toString(16)} model 0x${model.toString(16)} is not a known SEV-SNP product`);
  }
  const signature = Buffer.concat([
    p384Component(bytes.subarray(0x2a0, 0x2a0 + SIGNATURE_COMPONENT_SIZE)),
    p384Component(bytes.subarray(0x2e8, 0x2e8 + SIGNATURE_COMPONENT_SIZE)),
  ]);
  return {
    bytes,
    version,
    guestSvn: bytes.readUInt32LE(0x04),
    policy: bytes.readBigUInt64LE(0x08),
    familyId: bytes.subarray(0x10, 0x20),
    imageId: bytes.subarray(0x20, 0x30),
    vmpl: bytes.readUInt32LE(0x30),
    signatureAlgo,
    platformInfo: bytes.readBigUInt64LE(0x40),
    signingKey: signingKeyField,
    reportData: bytes.subarray(0x50, 0x90),
    measurement: bytes.subarray(0x90, 0xc0),
    hostData: bytes.subarray(0xc0, 0xe0),
    idKeyDigest: bytes.subarray(0xe0, 0x110),
    authorKeyDigest: bytes.subarray(0x110, 0x140),
    reportId: bytes.subarray(0x140, 0x160),
    reportIdMa: bytes.subarray(0x160, 0x180),
    reportedTcb: bytes.subarray(0x180, 0x188),
    ...(product !== undefined ? { product } : {}),
    chipId: bytes.subarray(0x1a0, 0x1e0),
    signature,
  };
}

/** The parts of an 8-byte TCB_VERSION: Turin puts FMC first and packs the rest; Milan and Genoa use bytes 0, 1, 6, 7. */
export function tcbParts(tcb: Uint8Array, product: SnpProduct): TcbParts {
  if (product === 'Turin') return { fmc: tcb[0]!, bootloader: tcb[1]!, tee: tcb[2]!, snp: tcb[3]!, microcode: tcb[7]! };
  return { bootloader: tcb[0]!, tee: tcb[1]!, snp: tcb[6]!, microcode: tcb[7]! };
}

/** The inverse of tcbParts, for evidence that carries the report as a JSON object. */
export function tcbBytes(parts: TcbParts, product: SnpProduct | undefined): Buffer {
  const tcb = Buffer.alloc(8);
  if (product === 'Turin') {
    tcb[0] = parts.fmc ?? 0;
    tcb[1] = parts.bootloader;
    tcb[2] = parts.tee;
    tcb[3] = parts.snp;
  } else {
    tcb[0] = parts.bootloader;
    tcb[1] = parts.tee;
    tcb[6] = parts.snp;
  }
  tcb[7] = parts.microcode;
  return tcb;
}
