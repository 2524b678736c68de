import { createHash, randomBytes } from 'node:crypto';
import {
  bitString, booleanTrue, explicit, implicitPrimitive, namedBits, objectIdentifier, octetString,
  sequence, set, smallInteger, time, unsignedInteger, utf8String,
} from './der.js';
import type { CertificateSigner } from './signer.js';

export interface CertificateExtension {
  oid: string;
  critical: boolean;
  /** DER of the extension's value (the content of extnValue's OCTET STRING). */
  value: Buffer;
}

export interface CertificateFields {
  serial: Buffer;
  /** DER Name of the issuer, byte for byte as in the issuer certificate's subject. */
  issuerName: Buffer;
  subjectName: Buffer;
  notBefore: Date;
  notAfter: Date;
  subjectPublicKeyInfo: Buffer;
  extensions: CertificateExtension[];
}

const ATTRIBUTE_OID = { C: '2.5.4.6', O: '2.5.4.10', OU: '2.5.4.11', CN: '2.5.4.3' } as const;

export type NameAttribute = [keyof typeof ATTRIBUTE_OID, string];

/** A DER Name with one attribute per RDN, UTF8String values, in the order given. */
export function distinguishedName(attributes: NameAttribute[]): Buffer {
  return sequence(...attributes.map(([type, value]) => set(sequence(objectIdentifier(ATTRIBUTE_OID[type]), utf8String(value)))));
}

const SERIAL_BYTES = 16;
/** Serials are public, so their random bytes are drawn in batches: one CSPRNG call per 256 certificates, not per one. */
const SERIAL_BATCH = 256;
let serialBytes = Buffer.alloc(0);
let serialOffset = 0;

/** Random positive 128-bit serial: the top bit is set so every serial has exactly 128 bits. */
export function randomSerial(): Buffer {
  if (serialOffset + SERIAL_BYTES > serialBytes.length) {
    serialBytes = randomBytes(SERIAL_BYTES * SERIAL_BATCH);
    serialOffset = 0;
  }
  const serial = Buffer.from(serialBytes.subarray(serialOffset, serialOffset + SERIAL_BYTES));
  serialOffset += SERIAL_BYTES;
  serial[0]! |= 0x80;
  return serial;
}

/** RFC 7093 method 4: the leftmost 160 bits of the SHA-256 of the DER SubjectPublicKeyInfo. */
export function keyIdentifier(subjectPublicKeyInfo: Uint8Array): Buffer {
  return createHash('sha256').update(subjectPublicKeyInfo).digest().subarray(0, 20);
}

function encodeExtension(extension: CertificateExtension): Buffer {
  return extension.critical
    ? sequence(objectIdentifier(extension.oid), booleanTrue(), octetString(extension.value))
    : sequence(objectIdentifier(extension.oid), octetString(extension.value));
}

export function buildCertificate(fields: CertificateFields, signer: CertificateSigner): Buffer {
  const toBeSigned = sequence(
    explicit(0, smallInteger(2)),
    unsignedInteger(fields.serial),
    signer.algorithmIdentifier,
    fields.issuerName,
    sequence(time(fields.notBefore), time(fields.notAfter)),
    fields.subjectName,
    fields.subjectPublicKeyInfo,
    explicit(3, sequence(...fields.extensions.map(encodeExtension))),
  );
  return sequence(toBeSigned, signer.algorithmIdentifier, bitString(signer.sign(toBeSigned)));
}

export const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  subjectAltName: '2.5.29.17',
  /** id-pe-cmw: the RATS conceptual message wrapper for X.509. */
  cmw: '1.3.6.1.5.5.7.1.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** KeyUsage bit positions (RFC 5280 4.2.1.3). */
export const KEY_USAGE = { digitalSignature: 0, keyEncipherment: 2, keyAgreement: 4, keyCertSign: 5, cRLSign: 6 } as const;

export const extension = {
  basicConstraints(ca: boolean, pathLength?: number): CertificateExtension {
    const content = ca ? [booleanTrue(), ...(pathLength === undefined ? [] : [smallInteger(pathLength)])] : [];
    return { oid: OID.basicConstraints, critical: true, value: sequence(...content) };
  },
  keyUsage(bits: number[]): CertificateExtension {
    return { oid: OID.keyUsage, critical: true, value: namedBits(bits) };
  },
  extendedKeyUsage(purposes: string[]): CertificateExtension {
    return { oid: OID.extKeyUsage, critical: false, value: sequence(...purposes.map(objectIdentifier)) };
  },
  subjectKeyIdentifier(subjectPublicKeyInfo: Uint8Array): CertificateExtension {
    return { oid: OID.subjectKeyIdentifier, critical: false, value: octetString(keyIdentifier(subjectPublicKeyInfo)) };
  },
  authorityKeyIdentifier(issuerKeyIdentifier: Uint8Array): CertificateExtension {
    return { oid: OID.authorityKeyIdentifier, critical: false, value: sequence(implicitPrimitive(0, issuerKeyIdentifier)) };
  },
  /** SubjectAltName from URIs, DNS names and IP addresses (as 4 or 16 bytes). */
  subjectAltName(names: { uri?: string[]; dns?: string[]; ip?: Buffer[] }): CertificateExtension {
    const general = [
      ...(names.dns ?? []).map((dns) => implicitPrimitive(2, Buffer.from(dns, 'ascii'))),
      ...(names.uri ?? []).map((uri) => implicitPrimitive(6, Buffer.from(uri, 'ascii'))),
      ...(names.ip ?? []).map((ip) => implicitPrimitive(7, ip)),
    ];
    return { oid: OID.subjectAltName, critical: false, value: sequence(...general) };
  },
  /** The CMW `json` choice: a UTF8String holding the JSON record `[media type, base64url(payload)]`. */
  conceptualMessageWrapper(mediaType: string, payload: Uint8Array): CertificateExtension {
    const record = JSON.stringify([mediaType, Buffer.from(payload).toString('base64url')]);
    return { oid: OID.cmw, critical: false, value: utf8String(record) };
  },
};
