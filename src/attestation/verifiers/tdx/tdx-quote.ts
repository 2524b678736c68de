import { KbsError } from '../../../domain/errors.js';

/** The TD report body fields a verifier reads; TDX 1.5 bodies add `teeTcbSvn2` and `mrServiceTd`. */
export interface TdReportBody {
  teeTcbSvn: Buffer;
  mrSeam: Buffer;
  mrSignerSeam: Buffer;
  seamAttributes: Buffer;
  tdAttributes: Buffer;
  xfam: Buffer;
  mrTd: Buffer;
  mrConfigId: Buffer;
  mrOwner: Buffer;
  mrOwnerConfig: Buffer;
  rtmrs: [Buffer, Buffer, Buffer, Buffer];
  reportData: Buffer;
  teeTcbSvn2?: Buffer;
  mrServiceTd?: Buffer;
}

/** The SGX enclave report of the quoting enclave (384 bytes). */
export interface QeReport {
  raw: Buffer;
  cpuSvn: Buffer;
  miscSelect: number;
  attributes: Buffer;
  mrEnclave: Buffer;
  mrSigner: Buffer;
  isvProdId: number;
  isvSvn: number;
  reportData: Buffer;
}

export interface TdxQuote {
  version: 4 | 5;
  /** 2 = TDX 1.0 body, 3 = TDX 1.5 body (v4 quotes always carry a TDX 1.0 body). */
  bodyType: 2 | 3;
  attestationKeyType: number;
  teeType: number;
  qeVendorId: Buffer;
  body: TdReportBody;
  /** Header and body: the bytes the quote signature covers. */
  signedBytes: Buffer;
  /** ECDSA P-256 raw r‖s (64 bytes). */
  signature: Buffer;
  /** Raw x‖y of the P-256 attestation key (64 bytes). */
  attestationKey: Buffer;
  qeReport: QeReport;
  /** ECDSA P-256 raw r‖s over the QE report, by the PCK key. */
  qeReportSignature: Buffer;
  qeAuthData: Buffer;
  /** PEM text of the PCK chain (leaf first), from certification data type 5. */
  pckChainPem: string;
}

export const TDX_TEE_TYPE = 0x81;
const ATTESTATION_KEY_ECDSA_P256 = 2;
const BODY_BYTES = { 2: 584, 3: 648 } as const;
const QE_REPORT_BYTES = 384;
const CERT_DATA_PCK_CHAIN = 5;
const CERT_DATA_QE_REPORT = 6;

/** Reads little-endian fields in order; any read past `end` is a truncated quote. */
class QuoteReader {
  constructor(
    private readonly data: Buffer,
    public offset: number,
    private readonly end: number,
  ) {}

  bytes(count: number, field: string): Buffer {
    if (count < 0 || this.offset + count > this.end) {
      throw new KbsError('bad-evidence-format', `TDX quote is truncated: ${field} needs ${count} bytes at offset ${this.offset}, the quote has ${this.end}`);
    }
    const slice = this.data.subarray(this.offset, this.offset + count);
    this.offset += count;
    return slice;
  }

  u16(field: string): number {
    return this.bytes(2, field).readUInt16LE(0);
  }

  u32(field: string): number {
    return this.bytes(4, field).readUInt32LE(0);
  }

  /** A reader over the next `count` bytes, which it consumes here. */
  nested(count: number, field: string): QuoteReader {
    const start = this.offset;
    this.bytes(count, field);
    return new QuoteReader(this.data, start, start + count);
  }
}

function readBody(reader: QuoteReader, bodyType: 2 | 3): TdReportBody {
  const field = (count: number, name: string): Buffer => reader.bytes(count, `body ${name}`);
  const body: TdReportBody = {
    teeTcbSvn: field(16, 'tee_tcb_svn'),
    mrSeam: field(48, 'mr_seam'),
    mrSignerSeam: field(48, 'mr_signer_seam'),
    seamAttributes: field(8, 'seam_attributes'),
    tdAttributes: field(8, 'td_attributes'),
    xfam: field(8, 'xfam'),
    mrTd: field(48, 'mr_td'),
    mrConfigId: field(48, 'mr_config_id'),
    mrOwner: field(48, 'mr_owner'),
    mrOwnerConfig: field(48, 'mr_owner_config'),
    rtmrs: [field(48, 'rtmr0'), field(48, 'rtmr1'), field(48, 'rtmr2'), field(48, 'rtmr3')],
    reportData: field(64, 'report_data'),
  };
  if (bodyType === 3) {
    body.teeTcbSvn2 = field(16, 'tee_tcb_svn2');
    body.mrServiceTd = field(48, 'mr_servicetd');
  }
  return body;
}

function readQeReport(reader: QuoteReader): QeReport {
  const raw = reader.bytes(QE_REPORT_BYTES, 'QE report');
  return {
    raw,
    cpuSvn: raw.subarray(0, 16),
    miscSelect: raw.readUInt32LE(16),
    attributes: raw.subarray(48, 64),
    mrEnclave: raw.subarray(64, 96),
    mrSigner: raw.subarray(128, 160),
    isvProdId: raw.readUInt16LE(256),
    isvSvn: raw.readUInt16LE(258),
    reportData: raw.subarray(320, 384),
  };
}

/** The PEM chain inside certification data type 5, which ends in a NUL byte or two on real platforms. */
function readPckChain(data: Buffer): string {
  const text = data.toString('latin1').replace(/\0+$/, '');
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new KbsError('bad-evidence-format', 'TDX quote: the PCK certification data holds no PEM certificate');
  }
  return text;
}

/**
 * Parses a TD quote, version 4 or 5, by its declared lengths. Bytes after the signature data are ignored (real
 * quote buffers are often padded); a quote shorter than its declared lengths throws `bad-evidence-format`.
 */
export function parseTdxQuote(quote: Buffer): TdxQuote {
  const reader = new QuoteReader(quote, 0, quote.length);
  const version = reader.u16('header version');
  if (version !== 4 && version !== 5) throw new KbsError('bad-evidence-format', `TDX quote version ${version} is not supported (4 or 5)`);
  const attestationKeyType = reader.u16('header attestation key type');
  if (attestationKeyType !== ATTESTATION_KEY_ECDSA_P256) {
    throw new KbsError('bad-evidence-format', `TDX quote attestation key type ${attestationKeyType} is not supported (2: ECDSA P-256)`);
  }
  const teeType = reader.u32('header tee type');
  if (teeType !== TDX_TEE_TYPE) throw new KbsError('bad-evidence-format', `quote TEE type 0x${teeType.toString(16)} is not TDX (0x81)`);
  reader.bytes(4, 'header reserved');
  const qeVendorId = reader.bytes(16, 'header qe_vendor_id');
  reader.bytes(20, 'header user_data');

  let bodyType: 2 | 3 = 2;
  if (version === 5) {
    const declaredType = reader.u16('body type');
    const declaredSize = reader.u32('body size');
    if (declaredType !== 2 && declaredType !== 3) {
      throw new KbsError('bad-evidence-format', `TDX quote v5 body type ${declaredType} is not supported (2: TDX 1.0, 3: TDX 1.5)`);
    }
    bodyType = declaredType;
    if (declaredSize !== BODY_BYTES[bodyType]) {
      throw new KbsError('bad-evidence-format', `TDX quote v5 body type ${bodyType} declares ${declaredSize} bytes, not ${BODY_BYTES[bodyType]}`);
    }
  }
  const body = readBody(reader, bodyType);
  const signedBytes = quote.subarray(0, reader.offset);

  const signatureData = reader.nested(reader.u32('signature data length'), 'signature data');
  const signature = signatureData.bytes(64, 'quote signature');
  const attestationKey = signatureData.bytes(64, 'attestation key');
  const outerType = signatureData.u16('certification data type');
  if (outerType !== CERT_DATA_QE_REPORT) {
    throw new KbsError('bad-evidence-format', `TDX quote certification data type ${outerType} is not supported (6: QE report)`);
  }
  const outer = signatureData.nested(signatureData.u32('certification data size'), 'certification data');
  const qeReport = readQeReport(outer);
  const qeReportSignature = outer.bytes(64, 'QE report signature');
  const qeAuthData = outer.bytes(outer.u16('QE auth data size'), 'QE auth data');
  const innerType = outer.u16('PCK certification data type');
  if (innerType !== CERT_DATA_PCK_CHAIN) {
    throw new KbsError('bad-evidence-format', `TDX quote PCK certification data type ${innerType} is not supported (5: PCK chain)`);
  }
  const pckChainPem = readPckChain(outer.bytes(outer.u32('PCK certification data size'), 'PCK certification data'));

  return {
    version, bodyType, attestationKeyType, teeType, qeVendorId, body, signedBytes,
    signature, attestationKey, qeReport, qeReportSignature, qeAuthData, pckChainPem,
  };
}
