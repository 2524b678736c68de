import type { X509Certificate } from 'node:crypto';
import { KbsError } from '../../../domain/errors.js';
import { objectIdentifier, readChildren, readElement, type DerElement } from '../../../pki/der.js';

/** What a PCK certificate says about its platform (Intel's SGX extensions, OID 1.2.840.113741.1.13.1). */
export interface PckPlatform {
  fmspc: Buffer;
  pceId: Buffer;
  /** The 16 SGX TCB component SVNs. */
  sgxTcbComponents: number[];
  pceSvn: number;
  cpuSvn: Buffer;
  /** 0 Standard, 1 Scalable, 2 Scalable with integrity. */
  sgxType?: number;
}

const SGX_EXTENSIONS = '1.2.840.113741.1.13.1';
const TAG = { integer: 0x02, octetString: 0x04, oid: 0x06, enumerated: 0x0a, sequence: 0x30, explicit3: 0xa3 } as const;
const EXTENSION_OID = objectIdentifier(SGX_EXTENSIONS);
/** DER of `<SGX>.2.1` to `<SGX>.2.18`: the 16 component SVNs, PCESVN and CPUSVN, by position. */
const TCB_ENTRY_OIDS = Array.from({ length: 18 }, (_, index) => objectIdentifier(`${SGX_EXTENSIONS}.2.${index + 1}`));

function malformed(what: string): KbsError {
  return new KbsError('bad-evidence-format', `PCK certificate SGX extension: ${what}`);
}

function bytesOf(data: Buffer, element: DerElement): Buffer {
  return data.subarray(element.contentStart, element.end);
}

function isOid(data: Buffer, element: DerElement, dotted: string): boolean {
  return element.tag === TAG.oid && data.subarray(element.start, element.end).equals(objectIdentifier(dotted));
}

function smallUnsigned(data: Buffer, element: DerElement, what: string): number {
  const bytes = bytesOf(data, element);
  if ((element.tag !== TAG.integer && element.tag !== TAG.enumerated) || bytes.length === 0 || bytes.length > 3 || (bytes[0]! & 0x80) !== 0) {
    throw malformed(`${what} is not a small non-negative integer`);
  }
  return bytes.reduce((value, byte) => value * 256 + byte, 0);
}

/** The extnValue content of the SGX extension, found by walking Certificate → tbsCertificate → [3] extensions. */
function sgxExtensionValue(der: Buffer): Buffer {
  const certificate = readElement(der, 0);
  const [tbs] = readChildren(der, certificate);
  if (!tbs) throw malformed('certificate has no tbsCertificate');
  const wrapper = readChildren(der, tbs).find((element) => element.tag === TAG.explicit3);
  const [extensions] = wrapper ? readChildren(der, wrapper) : [];
  for (const extension of extensions ? readChildren(der, extensions) : []) {
    const parts = readChildren(der, extension);
    if (parts[0] && der.subarray(parts[0].start, parts[0].end).equals(EXTENSION_OID)) {
      const value = parts[parts.length - 1]!;
      if (value.tag !== TAG.octetString) throw malformed('extension value is not an OCTET STRING');
      return bytesOf(der, value);
    }
  }
  throw malformed('the PCK certificate has no SGX extension (1.2.840.113741.1.13.1)');
}

/** Reads FMSPC, PCE-ID and the TCB (16 component SVNs, PCESVN, CPUSVN) from a PCK certificate. */
export function readPckPlatform(certificate: X509Certificate): PckPlatform {
  try {
    return parsePlatform(sgxExtensionValue(certificate.raw));
  } catch (error) {
    if (error instanceof KbsError) throw error;
    throw malformed((error as Error).message);
  }
}

function parsePlatform(value: Buffer): PckPlatform {
  const root = readElement(value, 0);
  if (root.tag !== TAG.sequence) throw malformed('value is not a SEQUENCE');
  const found: Partial<PckPlatform> = {};
  for (const entry of readChildren(value, root)) {
    const [oid, item] = readChildren(value, entry);
    if (!oid || !item) throw malformed('an entry is not an (OID, value) pair');
    if (isOid(value, oid, `${SGX_EXTENSIONS}.2`)) Object.assign(found, parseTcb(value, item));
    else if (isOid(value, oid, `${SGX_EXTENSIONS}.3`)) found.pceId = bytesOf(value, item);
    else if (isOid(value, oid, `${SGX_EXTENSIONS}.4`)) found.fmspc = bytesOf(value, item);
    else if (isOid(value, oid, `${SGX_EXTENSIONS}.5`)) found.sgxType = smallUnsigned(value, item, 'SGX type');
  }
  const { fmspc, pceId, sgxTcbComponents, pceSvn, cpuSvn } = found;
  if (fmspc?.length !== 6) throw malformed('FMSPC missing or not 6 bytes');
  if (pceId?.length !== 2) throw malformed('PCE-ID missing or not 2 bytes');
  if (sgxTcbComponents === undefined || pceSvn === undefined || cpuSvn === undefined) throw malformed('TCB missing');
  return { fmspc, pceId, sgxTcbComponents, pceSvn, cpuSvn, ...(found.sgxType !== undefined ? { sgxType: found.sgxType } : {}) };
}

function parseTcb(value: Buffer, tcb: DerElement): Pick<PckPlatform, 'sgxTcbComponents' | 'pceSvn' | 'cpuSvn'> {
  if (tcb.tag !== TAG.sequence) throw malformed('TCB is not a SEQUENCE');
  const components: (number | undefined)[] = new Array<number | undefined>(16).fill(undefined);
  let pceSvn: number | undefined;
  let cpuSvn: Buffer | undefined;
  for (const entry of readChildren(value, tcb)) {
    const [oid, item] = readChildren(value, entry);
    if (!oid || !item) throw malformed('a TCB entry is not an (OID, value) pair');
    const encodedOid = value.subarray(oid.start, oid.end);
    const position = TCB_ENTRY_OIDS.findIndex((known) => known.equals(encodedOid));
    if (position >= 0 && position < 16) components[position] = smallUnsigned(value, item, `TCB component ${position + 1}`);
    else if (position === 16) pceSvn = smallUnsigned(value, item, 'PCESVN');
    else if (position === 17) cpuSvn = bytesOf(value, item);
  }
  if (components.some((svn) => svn === undefined)) throw malformed('TCB lacks one of the 16 component SVNs');
  if (pceSvn === undefined || cpuSvn?.length !== 16) throw malformed('TCB lacks PCESVN or a 16-byte CPUSVN');
  return { sgxTcbComponents: components as number[], pceSvn, cpuSvn };
}
