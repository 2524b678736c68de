import { KbsError } from '../../../domain/errors.js';
import { isRecord } from '../../../domain/json-record.js';
import { productFromCpuid, SNP_REPORT_SIZE, tcbBytes, type SnpProduct, type TcbParts } from './snp-report.js';

/** Evidence after decoding: the binary report and the DER certificates that came with it. */
export interface SnpEvidence {
  report: Buffer;
  certificates: Buffer[];
}

const MAX_CERTIFICATES = 8;
const MAX_CERTIFICATE_BYTES = 16 * 1024;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function bad(detail: string): KbsError {
  return new KbsError('bad-evidence-format', `SNP evidence: ${detail}`);
}

/** Bytes given as a JSON array of numbers 0..255 (serde's form) or as a base64 string (standard or URL-safe). */
export function decodeBytes(value: unknown, field: string, maxBytes: number): Buffer {
  if (typeof value === 'string') {
    const text = value.replace(/\s+/g, '');
    if (!BASE64.test(text) || text.length > Math.ceil((maxBytes * 4) / 3) + 4) throw bad(`"${field}" must be base64 of at most ${maxBytes} bytes`);
    return Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
  }
  if (Array.isArray(value)) {
    if (value.length > maxBytes) throw bad(`"${field}" holds more than ${maxBytes} bytes`);
    if (!value.every((byte) => Number.isInteger(byte) && byte >= 0 && byte <= 255)) throw bad(`"${field}" must hold numbers 0..255`);
    return Buffer.from(value as number[]);
  }
  throw bad(`"${field}" must be a byte array or base64`);
}

function fixedBytes(report: Record<string, unknown>, field: string, size: number): Buffer {
  const bytes = decodeBytes(report[field] ?? [], field, size);
  if (bytes.length !== size && bytes.length !== 0) throw bad(`"attestation_report.${field}" must be ${size} bytes`);
  return bytes.length === 0 ? Buffer.alloc(size) : bytes;
}

function integer(report: Record<string, unknown>, field: string, max: number): number {
  const value = report[field] ?? 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > max) throw bad(`"attestation_report.${field}" must be an integer 0..${max}`);
  return value;
}

function tcbObject(report: Record<string, unknown>, field: string): TcbParts {
  const value = report[field];
  if (!isRecord(value)) throw bad(`"attestation_report.${field}" must be an object {bootloader, tee, snp, microcode}`);
  const part = (name: string): number => integer(value, name, 255);
  const fmc = value.fmc;
  if (fmc !== undefined && fmc !== null && (typeof fmc !== 'number' || !Number.isInteger(fmc) || fmc < 0 || fmc > 255)) throw bad(`"attestation_report.${field}.fmc" must be 0..255 or null`);
  return { ...(typeof fmc === 'number' ? { fmc } : {}), bootloader: part('bootloader'), tee: part('tee'), snp: part('snp'), microcode: part('microcode') };
}

function version(report: Record<string, unknown>, field: string): Buffer {
  const value = report[field];
  if (!isRecord(value)) throw bad(`"attestation_report.${field}" must be an object {major, minor, build}`);
  return Buffer.from([integer(value, 'build', 255), integer(value, 'minor', 255), integer(value, 'major', 255), 0]);
}

/**
 * Rebuilds the binary report from the JSON object trustee's attester sends (one member per field, byte fields as
 * arrays, TCB fields as objects); reserved bytes are zero, as in the hardware report.
 */
function reportFromObject(report: Record<string, unknown>): Buffer {
  const bytes = Buffer.alloc(SNP_REPORT_SIZE);
  const u32 = (field: string, offset: number): void => void bytes.writeUInt32LE(integer(report, field, 0xffffffff), offset);
  const u64 = (field: string, offset: number): void => {
    const value = report[field] ?? 0;
    const big = typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? BigInt(value) : typeof value === 'string' && /^\d{1,20}$/.test(value) ? BigInt(value) : -1n;
    if (big < 0n || big >= 1n << 64n) throw bad(`"attestation_report.${field}" must be an unsigned 64-bit integer`);
    bytes.writeBigUInt64LE(big, offset);
  };
  const put = (field: string, offset: number, size: number): void => void fixedBytes(report, field, size).copy(bytes, offset);
  const reportVersion = integer(report, 'version', 0xffffffff);
  const family = integer(report, 'cpuid_fam_id', 255);
  const model = integer(report, 'cpuid_mod_id', 255);
  const product: SnpProduct | undefined = reportVersion >= 3 ? productFromCpuid(family, model) : undefined;
  const tcb = (field: string, offset: number): void => {
    const parts = tcbObject(report, field);
    if (parts.fmc !== undefined && product !== 'Turin') throw bad(`"attestation_report.${field}.fmc" is only defined on Turin`);
    tcbBytes(parts, product).copy(bytes, offset);
  };
  bytes.writeUInt32LE(reportVersion, 0x00);
  u32('guest_svn', 0x04);
  u64('policy', 0x08);
  put('family_id', 0x10, 16);
  put('image_id', 0x20, 16);
  u32('vmpl', 0x30);
  u32('sig_algo', 0x34);
  tcb('current_tcb', 0x38);
  u64('plat_info', 0x40);
  u32('key_info', 0x48);
  put('report_data', 0x50, 64);
  put('measurement', 0x90, 48);
  put('host_data', 0xc0, 32);
  put('id_key_digest', 0xe0, 48);
  put('author_key_digest', 0x110, 48);
  put('report_id', 0x140, 32);
  put('report_id_ma', 0x160, 32);
  tcb('reported_tcb', 0x180);
  bytes[0x188] = family;
  bytes[0x189] = model;
  bytes[0x18a] = integer(report, 'cpuid_step', 255);
  put('chip_id', 0x1a0, 64);
  tcb('committed_tcb', 0x1e0);
  version(report, 'current').copy(bytes, 0x1e8);
  version(report, 'committed').copy(bytes, 0x1ec);
  tcb('launch_tcb', 0x1f0);
  u64('launch_mit_vector', 0x1f8);
  u64('current_mit_vector', 0x200);
  const signature = report.signature;
  if (!isRecord(signature)) throw bad('"attestation_report.signature" must be an object {r, s}');
  fixedBytes(signature, 'r', 72).copy(bytes, 0x2a0);
  fixedBytes(signature, 's', 72).copy(bytes, 0x2e8);
  return bytes;
}

/** Entry kinds that hold certificates; others (a CRL, an unknown GUID) are skipped. */
const CERTIFICATE_TYPES = new Set(['VCEK', 'VLEK', 'ASK', 'ASVK', 'ARK']);

/** One `cert_chain` entry's certificate: `data` as bytes (DER) or a PEM string; undefined for other entry kinds. */
function certificateData(entry: unknown, index: number): Buffer | undefined {
  if (!isRecord(entry)) throw bad(`"cert_chain[${index}]" must be an object {cert_type, data}`);
  const { cert_type: type, data } = entry;
  if (typeof type !== 'string') throw bad(`"cert_chain[${index}].cert_type" must be a string`);
  if (!CERTIFICATE_TYPES.has(type.toUpperCase())) return undefined;
  if (typeof data === 'string' && data.includes('-----BEGIN')) return Buffer.from(data, 'utf8');
  return decodeBytes(data, `cert_chain[${index}].data`, MAX_CERTIFICATE_BYTES);
}

/**
 * Trustee's SNP evidence: `{"attestation_report": <object | byte array | base64>, "cert_chain": [{"cert_type", "data"}] | null}`.
 * `cert_type` only tells certificates from other entries (a CRL): trust comes from signatures and the pinned ARK.
 */
export function decodeSnpEvidence(evidence: unknown): SnpEvidence {
  if (!isRecord(evidence)) throw bad('must be a JSON object with "attestation_report"');
  const { attestation_report: reportValue, cert_chain: chain } = evidence;
  if (reportValue === undefined || reportValue === null) throw bad('"attestation_report" is required');
  const report = isRecord(reportValue) ? reportFromObject(reportValue) : decodeBytes(reportValue, 'attestation_report', SNP_REPORT_SIZE + 1);
  if (chain !== undefined && chain !== null && !Array.isArray(chain)) throw bad('"cert_chain" must be an array');
  const entries = (chain ?? []) as unknown[];
  if (entries.length > MAX_CERTIFICATES) throw bad(`"cert_chain" holds more than ${MAX_CERTIFICATES} certificates`);
  return { report, certificates: entries.map(certificateData).filter((data): data is Buffer => data !== undefined) };
}
