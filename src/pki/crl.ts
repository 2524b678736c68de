import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { REVOCATION_REASON_CODES, type RevocationReason } from '../domain/revocation.js';
import { extension, keyIdentifier, type CertificateExtension } from './certificate-builder.js';
import type { SigningAuthority } from './certificate-profiles.js';
import { bitString, sequence, unsignedInteger } from './der.js';

export interface RevokedEntry {
  /** lowercase hex */
  serial: string;
  revokedAt: Date;
  reason: RevocationReason;
}

export interface CrlRequest {
  /** The issuing CA that signs the CRL and whose leaves it lists. */
  issuer: SigningAuthority;
  revoked: RevokedEntry[];
  thisUpdate: Date;
  nextUpdate: Date;
  /** Grows with every CRL of this issuer (RFC 5280 5.2.3). */
  crlNumber: bigint;
}

const CRL_OID = { crlNumber: '2.5.29.20', reasonCode: '2.5.29.21' } as const;

function hexBytes(hex: string): Buffer {
  return Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
}

function bigintBytes(value: bigint): Buffer {
  return hexBytes(value.toString(16));
}

/** DER pieces from our writer become pkijs objects through one parse. */
function asn1Of(der: Uint8Array): asn1js.AsnType {
  const parsed = asn1js.fromBER(der);
  if (parsed.offset === -1) throw new Error('internal DER could not be parsed');
  return parsed.result;
}

function pkijsExtension(value: CertificateExtension): pkijs.Extension {
  const der = Buffer.from(value.value);
  return new pkijs.Extension({ extnID: value.oid, critical: value.critical, extnValue: der.buffer.slice(der.byteOffset, der.byteOffset + der.length) });
}

const utcOrGeneralized = (date: Date): pkijs.Time =>
  new pkijs.Time({ type: date.getUTCFullYear() < 2050 ? pkijs.TimeType.UTCTime : pkijs.TimeType.GeneralizedTime, value: date });

function revokedCertificate(entry: RevokedEntry): pkijs.RevokedCertificate {
  const code = REVOCATION_REASON_CODES[entry.reason];
  return new pkijs.RevokedCertificate({
    userCertificate: asn1Of(unsignedInteger(hexBytes(entry.serial))) as asn1js.Integer,
    revocationDate: utcOrGeneralized(entry.revokedAt),
    // RFC 5280 5.3.1: the reason code extension is absent rather than "unspecified".
    ...(code === 0 ? {} : {
      crlEntryExtensions: new pkijs.Extensions({
        extensions: [pkijsExtension({ oid: CRL_OID.reasonCode, critical: false, value: Buffer.from(new asn1js.Enumerated({ value: code }).toBER()) })],
      }),
    }),
  });
}

/**
 * A v2 CRL (RFC 5280 section 5) of one issuing CA, signed by that CA's key through its CertificateSigner, so an
 * issuer key held in an HSM signs CRLs there as well. Returns DER.
 */
export function buildCrl(request: CrlRequest): Buffer {
  const { certificate, signer } = request.issuer;
  const algorithm = pkijs.AlgorithmIdentifier.fromBER(signer.algorithmIdentifier);
  const crl = new pkijs.CertificateRevocationList({
    version: 1,
    signature: algorithm,
    issuer: pkijs.RelativeDistinguishedNames.fromBER(certificate.subjectName),
    thisUpdate: utcOrGeneralized(request.thisUpdate),
    nextUpdate: utcOrGeneralized(request.nextUpdate),
    crlExtensions: new pkijs.Extensions({
      extensions: [
        pkijsExtension(extension.authorityKeyIdentifier(certificate.subjectKeyIdentifier ?? keyIdentifier(certificate.spki))),
        pkijsExtension({ oid: CRL_OID.crlNumber, critical: false, value: unsignedInteger(bigintBytes(request.crlNumber)) }),
      ],
    }),
    ...(request.revoked.length > 0 ? { revokedCertificates: request.revoked.map(revokedCertificate) } : {}),
  });
  // The TBS bytes are encoded once, signed, and wrapped as they are: the bytes signed are exactly the bytes sent,
  // and asn1js, slow on large structures, neither parses nor encodes them a second time.
  const tbs = Buffer.from((crl.toSchema(true) as asn1js.Sequence).valueBlock.value[0]!.toBER());
  return sequence(tbs, signer.algorithmIdentifier, bitString(signer.sign(tbs)));
}
