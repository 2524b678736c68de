import { isIP } from 'node:net';
import type { Claims } from '../domain/claims.js';
import { KbsError } from '../domain/errors.js';
import { adminSpiffeId, teeSpiffeId } from '../domain/identity.js';
import {
  buildCertificate, distinguishedName, extension, KEY_USAGE, keyIdentifier, OID, randomSerial, type CertificateExtension,
} from './certificate-builder.js';
import type { CertificateInfo } from './certificate-info.js';
import { objectIdentifier } from './der.js';
import { claimsExtension } from './claims-extension.js';
import { derToPem } from './pem.js';
import type { CertificateSigner } from './signer.js';

/** A CA able to sign: its certificate and its key. */
export interface SigningAuthority {
  certificate: CertificateInfo;
  signer: CertificateSigner;
}

export interface IssuedCertificate {
  der: Buffer;
  pem: string;
  /** lowercase hex, 32 digits */
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

/** Client certificates are back-dated by a minute to tolerate clock skew between broker and TEE. */
export const BACKDATE_SECONDS = 60;

const SECOND = 1000;

function validity(now: Date, ttlSeconds: number, notAfterLimit?: Date, backdateSeconds = BACKDATE_SECONDS): { notBefore: Date; notAfter: Date } {
  const wanted = new Date(now.getTime() + ttlSeconds * SECOND);
  const notAfter = notAfterLimit && notAfterLimit < wanted ? notAfterLimit : wanted;
  return { notBefore: new Date(now.getTime() - backdateSeconds * SECOND), notAfter };
}

function authorityKeyId(authority: SigningAuthority): Buffer {
  return authority.certificate.subjectKeyIdentifier ?? keyIdentifier(authority.certificate.spki);
}

/** DER of the id-ecPublicKey OID, which opens the AlgorithmIdentifier of every EC SubjectPublicKeyInfo. */
const EC_PUBLIC_KEY_OID = objectIdentifier('1.2.840.10045.2.1');

/** Whether the SPKI holds an EC key, read from its AlgorithmIdentifier (parsing the key costs more than issuing). */
function isEcKey(spki: Buffer): boolean {
  const algorithmStart = spki.indexOf(EC_PUBLIC_KEY_OID);
  return algorithmStart > 0 && algorithmStart <= 6;
}

/** Leaf key usage: digitalSignature, plus keyAgreement for EC keys (for the ECDH resource envelope). */
function leafKeyUsage(spki: Buffer): CertificateExtension {
  return extension.keyUsage(isEcKey(spki) ? [KEY_USAGE.digitalSignature, KEY_USAGE.keyAgreement] : [KEY_USAGE.digitalSignature]);
}

function issue(authority: SigningAuthority, subjectName: Buffer, spki: Buffer, period: { notBefore: Date; notAfter: Date }, extensions: CertificateExtension[]): IssuedCertificate {
  const serial = randomSerial();
  const der = buildCertificate({ serial, issuerName: authority.certificate.subjectName, subjectName, subjectPublicKeyInfo: spki, extensions, ...period }, authority.signer);
  return { der, pem: derToPem(der, 'CERTIFICATE'), serial: serial.toString('hex'), ...period };
}

export interface ClientCertificateRequest {
  spki: Buffer;
  trustDomain: string;
  tee: string;
  /** The SPIFFE id segment: measurement-derived, SPKI-derived, or set by the attestation policy. */
  id: string;
  claims: Claims;
  ttlSeconds: number;
  now: Date;
}

/**
 * A SPIFFE client certificate from an issuing CA: CN `<common name>`, one SAN URI, clientAuth, never outliving
 * its issuer. TEE certificates add the claims extension; admin certificates carry none.
 */
function issueSpiffeClientCertificate(
  issuer: SigningAuthority,
  request: { spki: Buffer; trustDomain: string; commonName: string; spiffeId: string; ttlSeconds: number; now: Date },
  extra: CertificateExtension[],
): IssuedCertificate & { spiffeId: string } {
  // Leaves shrink as their issuer nears its end; an issuer already past it issues nothing rather than dead certificates.
  if (issuer.certificate.notAfter <= request.now) throw new KbsError('unavailable', 'the active issuing CA has expired; the operator must activate a successor');
  const subject = distinguishedName([['O', request.trustDomain], ['CN', request.commonName]]);
  const issued = issue(issuer, subject, request.spki, validity(request.now, request.ttlSeconds, issuer.certificate.notAfter), [
    extension.basicConstraints(false),
    leafKeyUsage(request.spki),
    extension.extendedKeyUsage([OID.clientAuth]),
    extension.subjectKeyIdentifier(request.spki),
    extension.authorityKeyIdentifier(authorityKeyId(issuer)),
    extension.subjectAltName({ uri: [request.spiffeId] }),
    ...extra,
  ]);
  return { ...issued, spiffeId: request.spiffeId };
}

/** The client certificate profile of PROTOCOL.md 1.4. */
export function issueClientCertificate(issuer: SigningAuthority, request: ClientCertificateRequest): IssuedCertificate & { spiffeId: string } {
  return issueSpiffeClientCertificate(issuer, {
    ...request, commonName: `${request.tee}/${request.id}`, spiffeId: teeSpiffeId(request.trustDomain, request.tee, request.id),
  }, [claimsExtension(request.claims)]);
}

/** An operator's client certificate for the admin API: `spiffe://<trust-domain>/admin/<name>`, no claims. */
export function issueAdminCertificate(issuer: SigningAuthority, request: { spki: Buffer; trustDomain: string; name: string; ttlSeconds: number; now: Date }): IssuedCertificate & { spiffeId: string } {
  return issueSpiffeClientCertificate(issuer, {
    ...request, commonName: `admin/${request.name}`, spiffeId: adminSpiffeId(request.trustDomain, request.name),
  }, []);
}

/** An IP address as the 4 or 16 bytes of an iPAddress SAN, including IPv6 forms with an embedded IPv4 tail. */
export function ipAddressBytes(address: string): Buffer {
  if (isIP(address) === 4) return Buffer.from(address.split('.').map(Number));
  if (isIP(address) !== 6) throw new Error(`not an IP address: ${address}`);
  const lastColon = address.lastIndexOf(':');
  const ipv4Tail = isIP(address.slice(lastColon + 1)) === 4 ? ipAddressBytes(address.slice(lastColon + 1)) : undefined;
  const hexPart = ipv4Tail ? `${address.slice(0, lastColon + 1)}0:0` : address;
  const [head = '', tail = ''] = hexPart.split('::');
  const groups = (part: string): string[] => (part ? part.split(':') : []);
  const all = hexPart.includes('::')
    ? [...groups(head), ...Array<string>(8 - groups(head).length - groups(tail).length).fill('0'), ...groups(tail)]
    : groups(hexPart);
  const bytes = Buffer.from(all.flatMap((group) => { const value = parseInt(group, 16); return [value >> 8, value & 0xff]; }));
  if (ipv4Tail) ipv4Tail.copy(bytes, 12);
  return bytes;
}

/** The broker's TLS server certificate, signed by the root so one bundle serves both directions. */
export function issueServerCertificate(root: SigningAuthority, request: { spki: Buffer; trustDomain: string; dnsNames: string[]; ipAddresses: string[]; ttlSeconds: number; now: Date }): IssuedCertificate {
  const commonName = request.dnsNames[0] ?? request.ipAddresses[0] ?? 'keybroker';
  const subject = distinguishedName([['O', request.trustDomain], ['CN', commonName]]);
  const period = validity(request.now, request.ttlSeconds, root.certificate.notAfter);
  return issue(root, subject, request.spki, period, [
    extension.basicConstraints(false),
    leafKeyUsage(request.spki),
    extension.extendedKeyUsage([OID.serverAuth]),
    extension.subjectKeyIdentifier(request.spki),
    extension.authorityKeyIdentifier(authorityKeyId(root)),
    extension.subjectAltName({ dns: request.dnsNames, ip: request.ipAddresses.map(ipAddressBytes) }),
  ]);
}

/** A self-signed root: CA, signs issuing CAs (path length 0) and the server certificate. */
export function createRootCertificate(signer: CertificateSigner, request: { trustDomain: string; ttlSeconds: number; now: Date }): IssuedCertificate {
  const subject = distinguishedName([['O', request.trustDomain], ['CN', 'keybroker root CA']]);
  const period = { notBefore: new Date(request.now.getTime() - BACKDATE_SECONDS * SECOND), notAfter: new Date(request.now.getTime() + request.ttlSeconds * SECOND) };
  const serial = randomSerial();
  const der = buildCertificate({
    serial, issuerName: subject, subjectName: subject, subjectPublicKeyInfo: signer.publicKeySpki, ...period,
    extensions: [
      extension.basicConstraints(true, 1),
      extension.keyUsage([KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign]),
      extension.subjectKeyIdentifier(signer.publicKeySpki),
    ],
  }, signer);
  return { der, pem: derToPem(der, 'CERTIFICATE'), serial: serial.toString('hex'), ...period };
}

/**
 * An issuing CA certificate for the key `spki`, signed by the root; never outlives the root. Not back-dated: the
 * rotation schedule counts its life from notBefore, and a successor is prepared long before it signs anything.
 */
export function issueIssuerCertificate(root: SigningAuthority, request: { spki: Buffer; trustDomain: string; issuerId: string; ttlSeconds: number; now: Date }): IssuedCertificate {
  const subject = distinguishedName([['O', request.trustDomain], ['CN', `keybroker issuing CA ${request.issuerId}`]]);
  return issue(root, subject, request.spki, validity(request.now, request.ttlSeconds, root.certificate.notAfter, 0), [
    extension.basicConstraints(true, 0),
    extension.keyUsage([KEY_USAGE.digitalSignature, KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign]),
    extension.subjectKeyIdentifier(request.spki),
    extension.authorityKeyIdentifier(authorityKeyId(root)),
  ]);
}
