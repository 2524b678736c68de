import type { X509Certificate } from 'node:crypto';
import type { Claims } from '../domain/claims.js';
import { KbsError } from '../domain/errors.js';
import { parseSpiffeId, type Principal } from '../domain/identity.js';
import type { CertificateAuthority } from '../pki/ca-home.js';
import { normalizeSerial } from '../pki/certificate-info.js';
import { claimsOfCertificate } from '../pki/claims-extension.js';

/** What the TLS layer tells us about the peer. */
export interface PeerCertificate {
  certificate: X509Certificate | undefined;
  /** The TLS stack verified the chain against our trust store. */
  authorized: boolean;
  authorizationError?: string;
}

export interface ClientIdentity {
  principal: Principal;
  serial: string;
  notAfter: Date;
  issuerId: string;
  /** Present for TEE certificates. */
  claims?: Claims;
}

/** Parsing a certificate's extensions costs more than a TLS resumption; remember what was read, by fingerprint. */
const MAX_CACHED = 10_000;
const parsed = new Map<string, { principal: Principal | undefined; claims: Claims | undefined }>();

function readIdentity(certificate: X509Certificate, trustDomain: string): { principal: Principal | undefined; claims: Claims | undefined } {
  const key = certificate.fingerprint256;
  const cached = parsed.get(key);
  if (cached) return cached;
  const uris = (certificate.subjectAltName ?? '').split(', ').filter((name) => name.startsWith('URI:')).map((name) => name.slice(4));
  const principal = uris.length === 1 ? parseSpiffeId(trustDomain, uris[0]!) : undefined;
  const claims = principal?.kind === 'tee' ? claimsOfCertificate(certificate.raw) : undefined;
  if (parsed.size >= MAX_CACHED) parsed.clear();
  const entry = { principal, claims };
  parsed.set(key, entry);
  return entry;
}

function describeTlsError(code: string | undefined): string {
  if (code === 'CERT_HAS_EXPIRED') return 'client certificate has expired';
  if (code === 'CERT_NOT_YET_VALID') return 'client certificate is not yet valid';
  return 'client certificate does not chain to an issuing CA of this broker';
}

/**
 * Authenticates the TLS client certificate: it must chain to one of our issuing CAs that is neither tainted
 * nor revoked, be within its validity and name a SPIFFE identity of this trust domain.
 */
export function authenticateClient(peer: PeerCertificate, ca: CertificateAuthority, trustDomain: string, now: Date): ClientIdentity {
  const certificate = peer.certificate;
  if (!certificate) throw new KbsError('no-client-certificate', 'a client certificate is required; attest first');
  if (!peer.authorized) throw new KbsError('certificate-invalid', describeTlsError(peer.authorizationError));
  const issuer = ca.issuers.find((candidate) => certificate.checkIssued(candidate.certificate.x509) && certificate.verify(candidate.certificate.x509.publicKey));
  if (!issuer) throw new KbsError('certificate-invalid', 'client certificate was not issued by an issuing CA of this broker');
  if (issuer.state === 'tainted' || issuer.state === 'revoked') throw new KbsError('certificate-invalid', 'the issuing CA of this certificate is no longer trusted; attest again');
  const notAfter = new Date(certificate.validTo);
  if (notAfter <= now || new Date(certificate.validFrom) > now) throw new KbsError('certificate-invalid', describeTlsError(notAfter <= now ? 'CERT_HAS_EXPIRED' : 'CERT_NOT_YET_VALID'));
  const { principal, claims } = readIdentity(certificate, trustDomain);
  if (!principal) throw new KbsError('certificate-invalid', 'client certificate carries no SPIFFE identity of this trust domain');
  return { principal, claims, serial: normalizeSerial(certificate.serialNumber), notAfter, issuerId: issuer.id };
}
