import { KbsError } from '../../domain/errors.js';
import { normalizeSerial } from '../../domain/serial.js';
import { readChildren, readElement, type DerElement } from '../../pki/der.js';

/** A vendor CRL whose signature was checked: the serials it lists and the window it is current in. */
export interface CheckedCrl {
  thisUpdate: Date;
  nextUpdate: Date;
  revokedSerials: ReadonlySet<string>;
}

/** The signed part of a CRL, for the vendor's own signature check. */
export interface SignedCrl {
  tbs: Buffer;
  /** DER AlgorithmIdentifier of the signature. */
  algorithm: Buffer;
  /** The BIT STRING's content after its unused-bits byte. */
  signature: Buffer;
}

const TAG = { integer: 0x02, utcTime: 0x17, generalizedTime: 0x18, sequence: 0x30 } as const;

function readTime(der: Buffer, element: DerElement): Date | undefined {
  const text = der.subarray(element.contentStart, element.end).toString('ascii');
  const match = element.tag === TAG.utcTime ? /^(\d{2})(\d{10})Z$/.exec(text) : element.tag === TAG.generalizedTime ? /^(\d{4})(\d{10})Z$/.exec(text) : null;
  if (!match) return undefined;
  const year = match[1]!.length === 2 ? (Number(match[1]) < 50 ? 2000 : 1900) + Number(match[1]) : Number(match[1]);
  const [month, day, hour, minute, second] = match[2]!.match(/\d{2}/g)!.map(Number) as [number, number, number, number, number];
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second));
}

/**
 * Parses a DER CRL (RFC 5280 CertificateList) and checks its signature with `signatureProblem`, which answers why
 * the signature is not the issuer's, or undefined when it is. Throws KbsError `attestation-failed` naming `what`
 * for a malformed CRL, a wrong signature or a missing nextUpdate.
 */
export function checkVendorCrl(der: Buffer, signatureProblem: (signed: SignedCrl) => string | undefined, what: string): CheckedCrl {
  const fail = (reason: string): KbsError => new KbsError('attestation-failed', `${what}: ${reason}`);
  let parts: DerElement[];
  let fields: DerElement[];
  try {
    const outer = readElement(der, 0);
    if (outer.end !== der.length) throw new Error('trailing bytes');
    parts = readChildren(der, outer);
    if (parts.length !== 3 || parts[0]!.tag !== TAG.sequence || parts[2]!.tag !== 0x03) throw new Error('not a CertificateList');
    fields = readChildren(der, parts[0]!);
  } catch {
    throw fail('not a DER CRL');
  }
  const [tbs, algorithm, signature] = parts as [DerElement, DerElement, DerElement];
  let problem: string | undefined;
  try {
    problem = signatureProblem({
      tbs: der.subarray(tbs.start, tbs.end),
      algorithm: der.subarray(algorithm.start, algorithm.end),
      signature: der.subarray(signature.contentStart + 1, signature.end),
    });
  } catch {
    problem = 'malformed signature algorithm';
  }
  if (problem !== undefined) throw fail(problem);

  // tbsCertList: version?, signature, issuer, thisUpdate, nextUpdate?, revokedCertificates?, [0] extensions?
  const rest = fields[0]?.tag === TAG.integer ? fields.slice(3) : fields.slice(2);
  const thisUpdate = rest[0] ? readTime(der, rest[0]) : undefined;
  const nextUpdate = rest[1] ? readTime(der, rest[1]) : undefined;
  if (!thisUpdate || !nextUpdate) throw fail('thisUpdate or nextUpdate missing');
  const revokedSerials = new Set<string>();
  const list = rest[2];
  if (list?.tag === TAG.sequence) {
    for (const entry of readChildren(der, list)) {
      const serial = readChildren(der, entry)[0];
      if (serial?.tag === TAG.integer) revokedSerials.add(normalizeSerial(der.subarray(serial.contentStart, serial.end).toString('hex')));
    }
  }
  return { thisUpdate, nextUpdate, revokedSerials };
}

/** The DER of a CRL's issuer Name, to pick the CRLs of one CA before checking any; undefined when `der` is no CRL. */
export function crlIssuerName(der: Buffer): Buffer | undefined {
  try {
    const [tbs] = readChildren(der, readElement(der, 0));
    if (!tbs || tbs.tag !== TAG.sequence) return undefined;
    const fields = readChildren(der, tbs);
    const issuer = fields[fields[0]?.tag === TAG.integer ? 2 : 1];
    return issuer?.tag === TAG.sequence ? der.subarray(issuer.start, issuer.end) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `serial` (hex, any case, leading zeros or not) is listed. */
export function listsSerial(crl: CheckedCrl, serial: string): boolean {
  return crl.revokedSerials.has(normalizeSerial(serial));
}
