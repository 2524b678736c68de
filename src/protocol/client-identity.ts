import type { X509Certificate } from 'node:crypto';
import type { Claims } from '../domain/claims.js';
import { KbsError } from '../domain/errors.js';
import { parseSpiffeId, type Principal } from '../domain/identity.js';
import type { CertificateAuthority } from '../pki/ca-home.js';
import { normalizeSerial } from '../domain/serial.js';
import { claimsOfCertificate } from '../pki/claims-extension.js';
import type { RevocationList } from '../store/ports.js';

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
  /** The peer certificate itself; its key is read only when a response is encrypted to it. */
  certificate: X509Certificate;
  /** Present for TEE certificates. */
  claims?: Claims;
}

interface CertificateFacts {
  /** The issuing CA (by id) whose key signed this certificate, if any of ours did. */
  issuerId: string | undefined;
  principal: Principal | undefined;
  claims: Claims | undefined;
}

/**
 * Finding the issuer (a signature check) and parsing extensions cost more than a TLS resumption; what never
 * changes for a certificate is remembered by fingerprint. Issuer state is looked up on every request.
 */
const MAX_CACHED = 10_000;
const factsByFingerprint = new Map<string, CertificateFacts>();

function certificateFacts(certificate: X509Certificate, ca: CertificateAuthority, trustDomain: string): CertificateFacts {
  const key = `${trustDomain} ${certificate.fingerprint256}`;
  const cached = factsByFingerprint.get(key);
  if (cached && (cached.issuerId === undefined || ca.issuers.some((issuer) => issuer.id === cached.issuerId))) return cached;
  const issuer = ca.issuers.find((candidate) => certificate.checkIssued(candidate.certificate.x509) && certificate.verify(candidate.certificate.publicKey));
  const uris = (certificate.subjectAltName ?? '').split(', ').filter((name) => name.startsWith('URI:')).map((name) => name.slice(4));
  const principal = uris.length === 1 ? parseSpiffeId(trustDomain, uris[0]!) : undefined;
  const claims = principal?.kind === 'tee' ? claimsOfCertificate(certificate.raw) : undefined;
  if (factsByFingerprint.size >= MAX_CACHED) factsByFingerprint.clear();
  const facts = { issuerId: issuer?.id, principal, claims };
  factsByFingerprint.set(key, facts);
  return facts;
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
  const { issuerId, principal, claims } = certificateFacts(certificate, ca, trustDomain);
  const issuer = ca.issuers.find((candidate) => candidate.id === issuerId);
  if (!issuer) throw new KbsError('certificate-invalid', 'client certificate was not issued by an issuing CA of this broker');
  if (issuer.state === 'tainted' || issuer.state === 'revoked') throw new KbsError('certificate-invalid', 'the issuing CA of this certificate is no longer trusted; attest again');
  const notAfter = new Date(certificate.validTo);
  if (notAfter <= now || new Date(certificate.validFrom) > now) throw new KbsError('certificate-invalid', describeTlsError(notAfter <= now ? 'CERT_HAS_EXPIRED' : 'CERT_NOT_YET_VALID'));
  if (!principal) throw new KbsError('certificate-invalid', 'client certificate carries no SPIFFE identity of this trust domain');
  return { principal, claims, serial: normalizeSerial(certificate.serialNumber), notAfter, issuerId: issuer.id, certificate };
}

/**
 * A revoked certificate fails at its next request. The revocation list is asked on every request and never
 * cached here, unlike the facts above, because revocation is the one thing about a certificate that changes.
 */
export async function requireNotRevoked(identity: ClientIdentity, revocations: RevocationList): Promise<ClientIdentity> {
  if (await revocations.isRevoked(identity.serial)) throw new KbsError('certificate-revoked', 'this client certificate was revoked; attest again');
  return identity;
}
