import { constants, createHash, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { normalizeSerial } from '../../../domain/serial.js';
import { objectIdentifier, readChildren, readElement, type DerElement } from '../../../pki/der.js';

/** An AMD certificate (ARK, ASK, ASVK, VCEK or VLEK) split for the checks the SNP verifier makes. */
export interface AmdCertificate {
  der: Buffer;
  /** Lowercase hex SHA-256 of the DER: how ARKs are pinned. */
  sha256: string;
  publicKey: KeyObject;
  /** The signed part and the signature, to check RSASSA-PSS with exactly AMD's parameters. */
  tbs: Buffer;
  signatureAlgorithm: Buffer;
  signature: Buffer;
  /** extnValue contents by the hex of the OID's DER. */
  extensions: Map<string, Buffer>;
  /** Distinguished names as node:crypto prints them, read once (the getters format them on every call). */
  subject: string;
  /** The subject Name's DER, to match a CRL's issuer. */
  subjectDer: Buffer;
  /** Lowercase hex without leading zeros (domain/serial.ts), as CRLs list serials. */
  serial: string;
  issuer: string;
  selfIssued: boolean;
  notBefore: Date;
  notAfter: Date;
}

/** AMD's VCEK/VLEK extensions (AMD "Versioned Chip Endorsement Key" specification). */
export const AMD_OID = {
  productName: '1.3.6.1.4.1.3704.1.2',
  blSpl: '1.3.6.1.4.1.3704.1.3.1',
  teeSpl: '1.3.6.1.4.1.3704.1.3.2',
  snpSpl: '1.3.6.1.4.1.3704.1.3.3',
  ucodeSpl: '1.3.6.1.4.1.3704.1.3.8',
  fmcSpl: '1.3.6.1.4.1.3704.1.3.9',
  hwId: '1.3.6.1.4.1.3704.1.4',
  cspId: '1.3.6.1.4.1.3704.1.5',
} as const;

export const oidKey = (dotted: string): string => objectIdentifier(dotted).toString('hex');

/** RSASSA-PSS with SHA-384, MGF1 with SHA-384, salt length 48: the only algorithm AMD signs its chain with. */
const RSASSA_PSS = oidKey('1.2.840.113549.1.1.10');
const SHA384 = oidKey('2.16.840.1.101.3.4.2.2');
const MGF1 = oidKey('1.2.840.113549.1.1.8');
const PSS_SALT_LENGTH = 48;

const hexOf = (data: Uint8Array, element: DerElement): string => Buffer.from(data.subarray(element.start, element.end)).toString('hex');

/** Splits DER; throws a plain Error for anything malformed (the caller words the failure). */
export function parseAmdCertificate(der: Buffer): AmdCertificate {
  const certificate = readElement(der, 0);
  if (certificate.tag !== 0x30 || certificate.end !== der.length) throw new Error('not a DER certificate');
  const [tbs, algorithm, signatureBits] = readChildren(der, certificate);
  if (!tbs || !algorithm || !signatureBits || tbs.tag !== 0x30 || algorithm.tag !== 0x30 || signatureBits.tag !== 0x03) throw new Error('not a certificate');
  if (der[signatureBits.contentStart] !== 0) throw new Error('signature has unused bits');
  const extensions = new Map<string, Buffer>();
  const fields = readChildren(der, tbs);
  // version [0]?, serialNumber, signature, issuer, validity, subject, ...
  const subjectField = fields[fields[0]?.tag === 0xa0 ? 5 : 4];
  if (!subjectField || subjectField.tag !== 0x30) throw new Error('no subject name');
  const wrapper = fields.find((child) => child.tag === 0xa3);
  if (wrapper) {
    const [list] = readChildren(der, wrapper);
    for (const extension of list ? readChildren(der, list) : []) {
      const parts = readChildren(der, extension);
      const oid = parts[0];
      const value = parts[parts.length - 1];
      if (!oid || !value || oid.tag !== 0x06 || value.tag !== 0x04) throw new Error('malformed extension');
      extensions.set(hexOf(der, oid), der.subarray(value.contentStart, value.end));
    }
  }
  const x509 = new X509Certificate(der);
  return {
    der,
    sha256: createHash('sha256').update(der).digest('hex'),
    publicKey: x509.publicKey,
    tbs: der.subarray(tbs.start, tbs.end),
    signatureAlgorithm: der.subarray(algorithm.start, algorithm.end),
    signature: der.subarray(signatureBits.contentStart + 1, signatureBits.end),
    extensions,
    subject: x509.subject,
    subjectDer: der.subarray(subjectField.start, subjectField.end),
    serial: normalizeSerial(x509.serialNumber),
    issuer: x509.issuer,
    selfIssued: x509.subject === x509.issuer,
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
  };
}

/** True when the AlgorithmIdentifier is RSASSA-PSS with SHA-384, MGF1-SHA-384 and salt 48. */
function isAmdPss(algorithm: Buffer): boolean {
  try {
    const outer = readElement(algorithm, 0);
    const [oid, params] = readChildren(algorithm, outer);
    if (!oid || !params || hexOf(algorithm, oid) !== RSASSA_PSS || params.tag !== 0x30) return false;
    let hash = '';
    let mgfHash = '';
    let salt = 20;
    for (const field of readChildren(algorithm, params)) {
      const [inner] = readChildren(algorithm, field);
      if (!inner) return false;
      if (field.tag === 0xa0) hash = hexOf(algorithm, readChildren(algorithm, inner)[0]!);
      else if (field.tag === 0xa1) {
        const [mgf, mgfParams] = readChildren(algorithm, inner);
        if (!mgf || !mgfParams || hexOf(algorithm, mgf) !== MGF1) return false;
        mgfHash = hexOf(algorithm, readChildren(algorithm, mgfParams)[0]!);
      } else if (field.tag === 0xa2) {
        if (inner.tag !== 0x02 || inner.end - inner.contentStart > 2) return false;
        salt = algorithm.readUIntBE(inner.contentStart, inner.end - inner.contentStart);
      }
    }
    return hash === SHA384 && mgfHash === SHA384 && salt === PSS_SALT_LENGTH;
  } catch {
    return false;
  }
}

// Signatures do not depend on time: a pair once verified needs no second RSA verification (validity is checked apart).
const VERIFIED_PAIRS_LIMIT = 4096;
const verifiedPairs = new Set<string>();

/** Whether `key` signed `signed.tbs` with AMD's RSASSA-PSS SHA-384 (and nothing weaker): certificates and CRLs alike. */
export function amdSignatureVerifies(signed: { tbs: Buffer; signatureAlgorithm: Buffer; signature: Buffer }, key: KeyObject): boolean {
  if (key.asymmetricKeyType !== 'rsa' || !isAmdPss(signed.signatureAlgorithm)) return false;
  return verify('sha384', signed.tbs, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: PSS_SALT_LENGTH }, signed.signature);
}

/** Whether `issuer` signed `subject` with AMD's RSASSA-PSS SHA-384 (and nothing weaker). */
export function signedByAmdKey(subject: AmdCertificate, issuer: AmdCertificate): boolean {
  if (subject.issuer !== issuer.subject || issuer.publicKey.asymmetricKeyType !== 'rsa') return false;
  const pair = `${subject.sha256}:${issuer.sha256}`;
  if (verifiedPairs.has(pair)) return true;
  const valid = amdSignatureVerifies(subject, issuer.publicKey);
  if (valid) {
    if (verifiedPairs.size >= VERIFIED_PAIRS_LIMIT) verifiedPairs.clear();
    verifiedPairs.add(pair);
  }
  return valid;
}

/** A DER INTEGER extension value 0..255 (a leading 0x00 sign byte is allowed, as for 128..255); undefined when absent. */
export function splExtension(certificate: AmdCertificate, dotted: string): number | undefined {
  const value = certificate.extensions.get(oidKey(dotted));
  if (value === undefined) return undefined;
  const element = readElement(value, 0);
  if (element.tag !== 0x02 || element.end !== value.length) throw new Error(`extension ${dotted} is not a DER INTEGER`);
  const content = value.subarray(element.contentStart, element.end);
  if (content.length === 0 || content.length > 2 || (content[0]! & 0x80) !== 0) throw new Error(`extension ${dotted} is not an integer 0..255`);
  if (content.length === 2 && (content[0] !== 0 || (content[1]! & 0x80) === 0)) throw new Error(`extension ${dotted} is not minimally encoded or out of range`);
  return content[content.length - 1]!;
}

/** The product-name extension ("Milan-B0", "Genoa"): a DER IA5String. */
export function productNameExtension(certificate: AmdCertificate): string | undefined {
  const value = certificate.extensions.get(oidKey(AMD_OID.productName));
  if (value === undefined) return undefined;
  const element = readElement(value, 0);
  if (element.tag !== 0x16 || element.end !== value.length) throw new Error('product name extension is not an IA5String');
  return value.subarray(element.contentStart, element.end).toString('ascii');
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/g;

/** The certificates in a file or evidence entry: one DER certificate, or PEM holding any number of them. */
export function splitCertificates(data: Buffer): Buffer[] {
  const text = data.toString('latin1');
  if (text.includes('-----BEGIN CERTIFICATE-----')) {
    return [...text.matchAll(PEM_CERTIFICATE)].map((match) => Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64'));
  }
  return [data];
}
