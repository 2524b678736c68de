import { verify, type X509Certificate } from 'node:crypto';
import { KbsError } from '../../../domain/errors.js';
import { readChildren, readElement, type DerElement } from '../../../pki/der.js';
import { normalizeSerial } from '../../../domain/serial.js';

/** A CRL whose signature was checked: the serials it lists and the window it is current in. */
export interface CheckedCrl {
  thisUpdate: Date;
  nextUpdate: Date;
  revokedSerials: ReadonlySet<string>;
}

const HASH_BY_SIGNATURE_OID: Record<string, string> = {
  '2a8648ce3d040302': 'sha256',
  '2a8648ce3d040303': 'sha384',
};
const TAG = { integer: 0x02, oid: 0x06, utcTime: 0x17, generalizedTime: 0x18, sequence: 0x30 } as const;

function readTime(der: Buffer, element: DerElement): Date | undefined {
  const text = der.subarray(element.contentStart, element.end).toString('ascii');
  const match = element.tag === TAG.utcTime ? /^(\d{2})(\d{10})Z$/.exec(text) : element.tag === TAG.generalizedTime ? /^(\d{4})(\d{10})Z$/.exec(text) : null;
  if (!match) return undefined;
  const year = match[1]!.length === 2 ? (Number(match[1]) < 50 ? 2000 : 1900) + Number(match[1]) : Number(match[1]);
  const [month, day, hour, minute, second] = match[2]!.match(/\d{2}/g)!.map(Number) as [number, number, number, number, number];
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second));
}

/**
 * Parses a DER CRL (RFC 5280 CertificateList) and checks its ECDSA signature with the issuer's key. Throws
 * KbsError `attestation-failed` naming `what` for a malformed CRL, a wrong signature or a missing nextUpdate.
 */
export function checkCrl(der: Buffer, issuer: X509Certificate, what: string): CheckedCrl {
  const fail = (reason: string): KbsError => new KbsError('attestation-failed', `${what}: ${reason}`);
  let parts: DerElement[];
  let fields: DerElement[];
  try {
    parts = readChildren(der, readElement(der, 0));
    if (parts.length !== 3 || parts[0]!.tag !== TAG.sequence) throw new Error('not a CertificateList');
    fields = readChildren(der, parts[0]!);
  } catch {
    throw fail('not a DER CRL');
  }
  const [tbs, algorithm, signature] = parts as [DerElement, DerElement, DerElement];
  const algorithmOid = readChildren(der, algorithm)[0];
  const hash = algorithmOid ? HASH_BY_SIGNATURE_OID[der.subarray(algorithmOid.contentStart, algorithmOid.end).toString('hex')] : undefined;
  if (hash === undefined) throw fail('signature algorithm is not ECDSA with SHA-256 or SHA-384');
  // BIT STRING: first content byte counts unused bits (0 for a signature).
  const signatureDer = der.subarray(signature.contentStart + 1, signature.end);
  if (!verify(hash, der.subarray(tbs.start, tbs.end), issuer.publicKey, signatureDer)) throw fail('signature does not verify with its issuer');

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

export function isRevoked(crl: CheckedCrl, certificate: X509Certificate): boolean {
  return crl.revokedSerials.has(normalizeSerial(certificate.serialNumber));
}
