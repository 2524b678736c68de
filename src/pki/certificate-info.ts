import { X509Certificate, type KeyObject } from 'node:crypto';
import * as pkijs from 'pkijs';
import { normalizeSerial } from '../domain/serial.js';
import { OID } from './certificate-builder.js';
import { derToPem } from './pem.js';

/** What keybroker needs to know about a CA certificate, read once when the CA is loaded. */
export interface CertificateInfo {
  der: Buffer;
  pem: string;
  x509: X509Certificate;
  publicKey: KeyObject;
  /** lowercase hex without leading zeros, as `openssl x509 -serial` prints it (lowercased). */
  serial: string;
  /** DER Name, byte for byte. */
  subjectName: Buffer;
  spki: Buffer;
  subjectKeyIdentifier: Buffer | undefined;
  notBefore: Date;
  notAfter: Date;
}

export function readCertificate(der: Buffer): CertificateInfo {
  const certificate = pkijs.Certificate.fromBER(der);
  const ski = certificate.extensions?.find((extension) => extension.extnID === OID.subjectKeyIdentifier);
  let subjectKeyIdentifier: Buffer | undefined;
  if (ski) {
    const parsed = ski.parsedValue as { valueBlock?: { valueHexView?: Uint8Array } } | undefined;
    const view = parsed?.valueBlock?.valueHexView;
    subjectKeyIdentifier = view ? Buffer.from(view) : undefined;
  }
  const x509 = new X509Certificate(der);
  return {
    der,
    pem: derToPem(der, 'CERTIFICATE'),
    x509,
    publicKey: x509.publicKey,
    serial: normalizeSerial(x509.serialNumber),
    subjectName: Buffer.from(certificate.subject.valueBeforeDecode),
    spki: Buffer.from(certificate.subjectPublicKeyInfo.toSchema().toBER()),
    subjectKeyIdentifier,
    notBefore: certificate.notBefore.value,
    notAfter: certificate.notAfter.value,
  };
}
