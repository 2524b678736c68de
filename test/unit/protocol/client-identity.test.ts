import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import type { Claims } from '../../../src/domain/claims.js';
import { initCertificateAuthority, type CertificateAuthority, type IssuerState } from '../../../src/pki/ca-home.js';
import { issueAdminCertificate, issueClientCertificate, type SigningAuthority } from '../../../src/pki/certificate-profiles.js';
import { authenticateClient, type PeerCertificate } from '../../../src/protocol/client-identity.js';
import { ecKey, errorCodeOf, makeIssuer, makeRoot, makeTempDir, removeDir, spkiOf, TRUST_DOMAIN } from '../pki/helpers.js';

const claims: Claims = {
  v: 1, tee: 'sample', verifier: 'builtin', status: 'affirming', tcb_status: 'unknown', measurement: 'ab'.repeat(32),
  trust_vector: { hardware: 0, executables: 0, configuration: 0 }, tee_claims: { svn: '1' }, iat: 1764410000,
};

describe('protocol/client-identity authenticateClient', function () {
  this.timeout(20_000);
  let dir: string;
  let ca: CertificateAuthority;
  let now: Date;

  const teeCertificate = (issuer: SigningAuthority, options: { trustDomain?: string; id?: string; ttlSeconds?: number; at?: Date } = {}): { x509: X509Certificate; serial: string } => {
    const issued = issueClientCertificate(issuer, {
      spki: spkiOf(ecKey()), trustDomain: options.trustDomain ?? TRUST_DOMAIN, tee: 'sample', id: options.id ?? '0011223344556677', claims,
      ttlSeconds: options.ttlSeconds ?? 600, now: options.at ?? now,
    });
    return { x509: new X509Certificate(issued.der), serial: issued.serial };
  };
  const peer = (certificate: X509Certificate | undefined, authorized = true, authorizationError?: string): PeerCertificate => ({ certificate, authorized, ...(authorizationError ? { authorizationError } : {}) });
  const withIssuerState = (state: IssuerState): CertificateAuthority => ({ ...ca, issuers: ca.issuers.map((issuer) => ({ ...issuer, state })) });

  before(async () => {
    dir = await makeTempDir('identity');
    now = new Date(Math.floor(Date.now() / 1000) * 1000);
    ca = await initCertificateAuthority(join(dir, 'ca'), { trustDomain: TRUST_DOMAIN, rootTtlSeconds: 3650 * 86400, issuerTtlSeconds: 90 * 86400, serverTtlSeconds: 30 * 86400 }, new Date(now.getTime() - 86400_000));
  });

  after(async () => {
    await removeDir(dir);
  });

  it('answers no-client-certificate without a certificate', async () => {
    expect(await errorCodeOf(() => authenticateClient(peer(undefined), ca, TRUST_DOMAIN, now))).to.equal('no-client-certificate');
    expect(await errorCodeOf(() => authenticateClient(peer(undefined, false), ca, TRUST_DOMAIN, now))).to.equal('no-client-certificate');
  });

  it('answers certificate-invalid when the TLS stack did not authorize the certificate', async () => {
    const { x509 } = teeCertificate(ca.active);
    expect(await errorCodeOf(() => authenticateClient(peer(x509, false), ca, TRUST_DOMAIN, now))).to.equal('certificate-invalid');
    expect(await errorCodeOf(() => authenticateClient(peer(x509, false, 'CERT_HAS_EXPIRED'), ca, TRUST_DOMAIN, now))).to.equal('certificate-invalid');
  });

  it('reads a TEE principal, its claims, serial, notAfter and issuer id', () => {
    const { x509, serial } = teeCertificate(ca.active);
    const identity = authenticateClient(peer(x509), ca, TRUST_DOMAIN, now);
    expect(identity.principal).to.deep.equal({ kind: 'tee', spiffeId: `spiffe://${TRUST_DOMAIN}/tee/sample/0011223344556677`, tee: 'sample', id: '0011223344556677' });
    expect(identity.claims).to.deep.equal(claims);
    expect(identity.serial).to.equal(serial);
    expect(identity.notAfter.getTime()).to.equal(now.getTime() + 600_000);
    expect(identity.issuerId).to.equal(ca.active.id);
  });

  it('reads an admin principal, without claims', () => {
    const issued = issueAdminCertificate(ca.active, { spki: spkiOf(ecKey()), trustDomain: TRUST_DOMAIN, name: 'alice', ttlSeconds: 3600, now });
    const identity = authenticateClient(peer(new X509Certificate(issued.der)), ca, TRUST_DOMAIN, now);
    expect(identity.principal).to.deep.equal({ kind: 'admin', spiffeId: `spiffe://${TRUST_DOMAIN}/admin/alice`, name: 'alice' });
    expect(identity.claims).to.equal(undefined);
    expect(identity.serial).to.equal(issued.serial);
  });

  it('answers certificate-invalid for a certificate of a foreign issuer, even one with our issuer name', async () => {
    const foreignRoot = makeRoot();
    const foreignIssuer = makeIssuer(foreignRoot, { now });
    expect(await errorCodeOf(() => authenticateClient(peer(teeCertificate(foreignIssuer).x509), ca, TRUST_DOMAIN, now))).to.equal('certificate-invalid');
    // Same subject name as our active issuer, another key.
    const impostor = { certificate: { ...foreignIssuer.certificate, subjectName: ca.active.certificate.subjectName }, signer: foreignIssuer.signer };
    const forged = teeCertificate(impostor).x509;
    expect(forged.issuer).to.equal(ca.active.certificate.x509.subject);
    expect(await errorCodeOf(() => authenticateClient(peer(forged), ca, TRUST_DOMAIN, now))).to.equal('certificate-invalid');
  });

  it('answers certificate-invalid when the issuer is tainted or revoked, and accepts a retired issuer', async () => {
    const { x509 } = teeCertificate(ca.active);
    expect(await errorCodeOf(() => authenticateClient(peer(x509), withIssuerState('tainted'), TRUST_DOMAIN, now))).to.equal('certificate-invalid');
    expect(await errorCodeOf(() => authenticateClient(peer(x509), withIssuerState('revoked'), TRUST_DOMAIN, now))).to.equal('certificate-invalid');
    expect(authenticateClient(peer(x509), withIssuerState('retired'), TRUST_DOMAIN, now).principal.kind).to.equal('tee');
  });

  it('answers certificate-invalid outside the validity period', async () => {
    const { x509 } = teeCertificate(ca.active, { ttlSeconds: 600 });
    expect(authenticateClient(peer(x509), ca, TRUST_DOMAIN, new Date(now.getTime() + 599_000)).principal.kind).to.equal('tee');
    expect(await errorCodeOf(() => authenticateClient(peer(x509), ca, TRUST_DOMAIN, new Date(now.getTime() + 600_000)))).to.equal('certificate-invalid');
    expect(await errorCodeOf(() => authenticateClient(peer(x509), ca, TRUST_DOMAIN, new Date(now.getTime() - 61_000)))).to.equal('certificate-invalid');
  });

  it('answers certificate-invalid for a SPIFFE id of another trust domain', async () => {
    const { x509 } = teeCertificate(ca.active, { trustDomain: 'other.test' });
    expect(await errorCodeOf(() => authenticateClient(peer(x509), ca, TRUST_DOMAIN, now))).to.equal('certificate-invalid');
  });

  it('answers certificate-invalid for a SPIFFE id that is neither tee/<tee>/<id> nor admin/<name>', async () => {
    const { x509 } = teeCertificate(ca.active, { id: 'a/b' });
    expect(await errorCodeOf(() => authenticateClient(peer(x509), ca, TRUST_DOMAIN, now))).to.equal('certificate-invalid');
  });

  it('gives the same answer for the same certificate again', () => {
    const { x509 } = teeCertificate(ca.active);
    const first = authenticateClient(peer(x509), ca, TRUST_DOMAIN, now);
    const second = authenticateClient(peer(new X509Certificate(x509.raw)), ca, TRUST_DOMAIN, now);
    const facts = (identity: typeof first): unknown => ({ principal: identity.principal, claims: identity.claims, serial: identity.serial, notAfter: identity.notAfter, issuerId: identity.issuerId });
    expect(facts(second)).to.deep.equal(facts(first));
    expect(first.principal.kind).to.equal('tee');
  });

  it('does not carry a cached answer over to another trust domain or a later issuer state', async () => {
    const { x509 } = teeCertificate(ca.active);
    expect(authenticateClient(peer(x509), ca, TRUST_DOMAIN, now).principal.kind).to.equal('tee');
    expect(await errorCodeOf(() => authenticateClient(peer(x509), ca, 'other.test', now))).to.equal('certificate-invalid');
    expect(await errorCodeOf(() => authenticateClient(peer(x509), withIssuerState('tainted'), TRUST_DOMAIN, now))).to.equal('certificate-invalid');
    expect(authenticateClient(peer(x509), ca, TRUST_DOMAIN, now).principal.kind).to.equal('tee');
  });
});
